import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { sign as nodeSign } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AllowedSignersError,
  parseAllowedSigners,
  parseArmoredSshSignature,
  readSshPrivateKeyFile,
  signSshMessage,
  signWithSshKeygen,
  verifySshSignature,
  verifyWithSshKeygen,
  type SshSignatureRefusal,
} from '../../lib/ssh-signature';
import { armorSshSignature, encodeSshSignature, sshsigSignedData } from '../../lib/ssh-signature/sshsig';
import { SshWriter } from '../../lib/ssh-signature/wire';
import { buildVoteStatement, voteSignatureNamespace } from '../../lib/vote-statement';
import { makeSshKey, sshKeyKinds, type SshKeyKind, type TestSshKey } from '../support/ssh-keys';

const namespace = voteSignatureNamespace;
const statement = (over: Partial<Parameters<typeof buildVoteStatement>[0]> = {}) =>
  buildVoteStatement({
    namespace: 'default',
    workflowId: 'server-failure-INC-1',
    runId: '0190b6a4-7f00-7000-8000-000000000001',
    gate: 'cutover',
    decision: 'approve',
    by: 'alice',
    comment: 'replica lag 2 s',
    time: '2026-12-01T03:04:05.000Z',
    ...over,
  });

let dir: string;
const keys = {} as Record<SshKeyKind, TestSshKey>;
let mallory: TestSshKey;
let bob: TestSshKey;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dr-sshsig-test-'));
  for (const kind of Object.keys(sshKeyKinds) as SshKeyKind[]) keys[kind] = makeSshKey(dir, `alice-${kind}`, kind);
  mallory = makeSshKey(dir, 'mallory', 'ed25519');
  bob = makeSshKey(dir, 'bob', 'ed25519');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function refusedWith(result: ReturnType<typeof verifySshSignature>, reason: SshSignatureRefusal): string {
  assert.equal(result.ok, false, `expected a refusal (${reason}), got acceptance`);
  assert.equal(result.reason, reason, result.message);
  return result.message;
}

describe('SSH signatures interoperate with the real ssh-keygen, both ways, for every key type', () => {
  for (const kind of Object.keys(sshKeyKinds) as SshKeyKind[]) {
    test(`${kind}: ssh-keygen -Y sign → our verify accepts, with the fingerprint ssh-keygen -l prints`, async () => {
      const key = keys[kind];
      const message = statement();
      const signature = await signWithSshKeygen({ keyFile: key.privateFile, namespace, message });
      const result = verifySshSignature({ allowedSigners: `alice ${key.publicLine}\n`, principal: 'alice', namespace, message, signature });
      assert.equal(result.ok, true, result.ok ? '' : result.message);
      assert.equal(result.fingerprint, key.fingerprint);
      assert.equal(result.principal, 'alice');
      assert.equal(result.allowedSignersLine, `alice ${key.publicLine}`);
    });

    test(`${kind}: our signature from the private key file → ssh-keygen -Y verify accepts it`, async () => {
      const key = keys[kind];
      const message = statement({ decision: 'reject' });
      const signature = signSshMessage(readSshPrivateKeyFile(key.privateFile), namespace, Buffer.from(message));
      const checked = await verifyWithSshKeygen({ allowedSigners: `alice ${key.publicLine}\n`, principal: 'alice', namespace, message, signature });
      assert.equal(checked.ok, true, checked.output);
      assert.match(checked.output, new RegExp(`Good "${namespace}" signature for alice with .* key ${key.fingerprint.replace(/[+/]/g, '\\$&')}`));
      // and our own verifier agrees with itself
      assert.equal(verifySshSignature({ allowedSigners: `alice ${key.publicLine}`, principal: 'alice', namespace, message, signature }).ok, true);
    });

    test(`${kind}: SHA-256 message hashes work both ways too (-O hashalg=sha256)`, async () => {
      const key = keys[kind];
      const message = statement({ comment: 'sha256' });
      const theirs = await signWithSshKeygen({ keyFile: key.privateFile, namespace, message, hashAlgorithm: 'sha256' });
      assert.equal(parseArmoredSshSignature(theirs).hashAlgorithm, 'sha256');
      assert.equal(verifySshSignature({ allowedSigners: `alice ${key.publicLine}`, principal: 'alice', namespace, message, signature: theirs }).ok, true);
      const ours = signSshMessage(readSshPrivateKeyFile(key.privateFile), namespace, Buffer.from(message), { hashAlgorithm: 'sha256' });
      assert.equal((await verifyWithSshKeygen({ allowedSigners: `alice ${key.publicLine}`, principal: 'alice', namespace, message, signature: ours })).ok, true);
    });
  }

  test('Ed25519 signatures are deterministic: ours are byte for byte what ssh-keygen writes, armor included', async () => {
    const message = statement();
    const theirs = await signWithSshKeygen({ keyFile: keys.ed25519.privateFile, namespace, message });
    assert.equal(signSshMessage(readSshPrivateKeyFile(keys.ed25519.privateFile), namespace, Buffer.from(message)), theirs);
  });

  test('RSA: rsa-sha2-256 signatures are accepted by ssh-keygen and by us', async () => {
    const key = keys['rsa-3072'];
    const message = statement();
    const signature = signSshMessage(readSshPrivateKeyFile(key.privateFile), namespace, Buffer.from(message), { rsaAlgorithm: 'rsa-sha2-256' });
    assert.equal(parseArmoredSshSignature(signature).signatureAlgorithm, 'rsa-sha2-256');
    assert.equal((await verifyWithSshKeygen({ allowedSigners: `alice ${key.publicLine}`, principal: 'alice', namespace, message, signature })).ok, true);
    assert.equal(verifySshSignature({ allowedSigners: `alice ${key.publicLine}`, principal: 'alice', namespace, message, signature }).ok, true);
  });

  test('RSA: an ssh-rsa (SHA-1) signature is refused, as ssh-keygen refuses it', async () => {
    const key = keys['rsa-3072'];
    const signing = readSshPrivateKeyFile(key.privateFile);
    const message = Buffer.from(statement());
    const data = sshsigSignedData(namespace, 'sha512', message);
    const signature = armorSshSignature(encodeSshSignature({
      publicKey: signing.publicKey,
      namespace,
      hashAlgorithm: 'sha512',
      signatureAlgorithm: 'ssh-rsa',
      signatureBlob: nodeSign('sha1', data, signing.privateKey),
    }));
    const text = refusedWith(verifySshSignature({ allowedSigners: `alice ${key.publicLine}`, principal: 'alice', namespace, message, signature }), 'malformed-signature');
    assert.match(text, /ssh-rsa \(SHA-1\), which is refused/);
    assert.equal((await verifyWithSshKeygen({ allowedSigners: `alice ${key.publicLine}`, principal: 'alice', namespace, message, signature })).ok, false);
  });

  test('keys written with -m PEM (RSA, ECDSA) and -m PKCS8 sign the same way', async () => {
    for (const [kind, format] of [['rsa-3072', 'PEM'], ['ecdsa-p256', 'PEM'], ['ecdsa-p384', 'PKCS8']] as const) {
      const key = makeSshKey(dir, `pem-${kind}-${format}`, kind, { format });
      const message = statement();
      const signature = signSshMessage(readSshPrivateKeyFile(key.privateFile), namespace, Buffer.from(message));
      const checked = await verifyWithSshKeygen({ allowedSigners: `alice ${key.publicLine}`, principal: 'alice', namespace, message, signature });
      assert.equal(checked.ok, true, `${kind} ${format}: ${checked.output}`);
    }
  });

  test('a passphrase-protected key is not read by Node; the error says to sign through ssh-keygen', () => {
    const key = makeSshKey(dir, 'locked', 'ed25519', { passphrase: 'correct horse' });
    assert.throws(() => readSshPrivateKeyFile(key.privateFile), /protected by a passphrase .*sign with ssh-keygen instead/);
    const pem = makeSshKey(dir, 'locked-pem', 'ecdsa-p256', { passphrase: 'correct horse', format: 'PEM' });
    assert.throws(() => readSshPrivateKeyFile(pem.privateFile), /protected by a passphrase/);
  });

  test('a missing key file and a file that is no key are named in the error', () => {
    assert.throws(() => readSshPrivateKeyFile(path.join(dir, 'nope')), /cannot read the private key .*nope: ENOENT/);
    const notKey = path.join(dir, 'not-a-key');
    writeFileSync(notKey, 'hello\n');
    assert.throws(() => readSshPrivateKeyFile(notKey), /not-a-key is not a private key/);
  });

  test('ssh-keygen signs with a passphrase-protected key held by ssh-agent (signing with its .pub file)', async (t) => {
    const key = makeSshKey(dir, 'agent-key', 'ed25519', { passphrase: 'agent secret' });
    const socket = path.join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    t.after(() => { agent.kill('SIGTERM'); });
    for (let i = 0; i < 50 && !(await fileExists(socket)); i++) await new Promise((r) => setTimeout(r, 100));
    const askpass = path.join(dir, 'askpass.sh');
    writeFileSync(askpass, '#!/bin/sh\necho "agent secret"\n');
    chmodSync(askpass, 0o700);
    const env = { ...process.env, SSH_AUTH_SOCK: socket, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' };
    await run('ssh-add', [key.privateFile], env);
    const message = statement({ by: 'alice' });
    const signature = await signWithSshKeygen({ keyFile: key.publicFile, namespace, message, env });
    const result = verifySshSignature({ allowedSigners: `alice ${key.publicLine}`, principal: 'alice', namespace, message, signature });
    assert.equal(result.ok, true, result.ok ? '' : result.message);
    assert.equal(result.fingerprint, key.fingerprint);
  });

  test('signWithSshKeygen reports what ssh-keygen said when it cannot sign', async () => {
    await assert.rejects(signWithSshKeygen({ keyFile: path.join(dir, 'no-such-key'), namespace, message: 'x', timeoutMs: 15_000 }), /ssh-keygen could not sign with .*no-such-key: .+/);
  });
});

async function fileExists(file: string): Promise<boolean> {
  try {
    const { stat } = await import('node:fs/promises');
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${output}`))));
  });
}

describe('forged votes are refused, with the reason, and ssh-keygen refuses every one of them too', () => {
  const at = new Date('2026-12-01T03:05:00Z');
  let aliceSignature: string;
  let allowed: string;

  before(async () => {
    aliceSignature = await signWithSshKeygen({ keyFile: keys.ed25519.privateFile, namespace, message: statement() });
    allowed = [
      '# approvers for production',
      `alice ${keys.ed25519.publicLine}`,
      `bob ${bob.publicLine}`,
      '',
    ].join('\n');
  });

  async function bothRefuse(input: { allowedSigners?: string; principal?: string; message?: string; signature: string; at?: Date }, reason: SshSignatureRefusal): Promise<string> {
    const full = { allowedSigners: input.allowedSigners ?? allowed, principal: input.principal ?? 'alice', namespace, message: input.message ?? statement(), signature: input.signature, at: input.at ?? at };
    const text = refusedWith(verifySshSignature(full), reason);
    const theirs = await verifyWithSshKeygen(full);
    assert.equal(theirs.ok, false, `ssh-keygen accepted what we refused (${reason}): ${theirs.output}`);
    return text;
  }

  test('the genuine vote passes both (the baseline the forgeries differ from)', async () => {
    assert.equal(verifySshSignature({ allowedSigners: allowed, principal: 'alice', namespace, message: statement(), signature: aliceSignature, at }).ok, true);
    assert.equal((await verifyWithSshKeygen({ allowedSigners: allowed, principal: 'alice', namespace, message: statement(), signature: aliceSignature, at })).ok, true);
  });

  test('a wrong key: mallory signs a statement saying alice', async () => {
    const forged = await signWithSshKeygen({ keyFile: mallory.privateFile, namespace, message: statement() });
    const text = await bothRefuse({ signature: forged }, 'key-not-allowed');
    assert.match(text, new RegExp(`the key ${mallory.fingerprint.replace(/[+/]/g, '\\$&')} is not allowed to sign for "alice"`));
  });

  test("another principal: alice's signature presented as bob's", async () => {
    const text = await bothRefuse({ principal: 'bob', message: statement({ by: 'alice' }), signature: aliceSignature }, 'key-not-allowed');
    assert.match(text, /not allowed to sign for "bob" \(it is listed for "alice"\)/);
  });

  test('an unlisted signer: carol is not in the allowed signers at all', async () => {
    const carol = makeSshKey(dir, 'carol', 'ed25519');
    const forged = await signWithSshKeygen({ keyFile: carol.privateFile, namespace, message: statement({ by: 'carol' }) });
    const text = await bothRefuse({ principal: 'carol', message: statement({ by: 'carol' }), signature: forged }, 'unknown-principal');
    assert.match(text, /"carol" is not in the allowed signers/);
  });

  test("another namespace: a signature alice made for git (or anything else) is not a vote", async () => {
    const gitSignature = await signWithSshKeygen({ keyFile: keys.ed25519.privateFile, namespace: 'git', message: statement() });
    const text = await bothRefuse({ signature: gitSignature }, 'wrong-namespace');
    assert.match(text, /made for namespace "git", not "dr-runbooks-vote@v1"/);
  });

  test('a signature over another statement: other gate, other run, other decision, other time', async () => {
    for (const other of [{ gate: 'repair' }, { runId: '0190b6a4-7f00-7000-8000-000000000002' }, { decision: 'reject' as const }, { workflowId: 'region-outage-INC-1' }, { time: '2026-12-01T03:04:06.000Z' }, { namespace: 'prod' }, { comment: 'replica lag 200 s' }]) {
      const text = await bothRefuse({ message: statement(other), signature: aliceSignature }, 'bad-signature');
      assert.match(text, /does not match this statement/);
    }
  });

  test('tampered armor: every kind of damage is refused, never accepted', async () => {
    const body = aliceSignature.split('\n').slice(1, -2).join('');
    const rewrap = (b64: string) => `-----BEGIN SSH SIGNATURE-----\n${b64.match(/.{1,70}/g)?.join('\n')}\n-----END SSH SIGNATURE-----\n`;
    const bytes = Buffer.from(body, 'base64');
    const flipped = (index: number) => { const copy = Buffer.from(bytes); copy[index] = (copy[index] as number) ^ 0x01; return rewrap(copy.toString('base64')); };
    const cases: Array<[string, string, SshSignatureRefusal]> = [
      ['a bit flipped in the signature value', flipped(bytes.length - 5), 'bad-signature'],
      ['a bit flipped in the embedded public key', flipped(40), 'bad-signature'],
      ['a bit flipped in the namespace', flipped(72), 'wrong-namespace'],
      ['a bit flipped in the magic preamble', flipped(0), 'malformed-signature'],
      ['truncated', rewrap(bytes.subarray(0, bytes.length - 10).toString('base64')), 'malformed-signature'],
      ['trailing bytes', rewrap(Buffer.concat([bytes, Buffer.from([0])]).toString('base64')), 'malformed-signature'],
      ['no armor header', aliceSignature.replace('-----BEGIN SSH SIGNATURE-----\n', ''), 'malformed-signature'],
      ['no armor footer', aliceSignature.replace('-----END SSH SIGNATURE-----', ''), 'malformed-signature'],
      ['text after the footer', aliceSignature + 'approved by alice\n', 'malformed-signature'],
      ['not base64', aliceSignature.replace(/\n([A-Za-z0-9+/])/, '\n*'), 'malformed-signature'],
      ['a PGP signature', '-----BEGIN PGP SIGNATURE-----\n\niQ==\n-----END PGP SIGNATURE-----\n', 'malformed-signature'],
      ['empty', '', 'malformed-signature'],
    ];
    for (const [what, signature, reason] of cases) {
      const ours = verifySshSignature({ allowedSigners: allowed, principal: 'alice', namespace, message: statement(), signature, at });
      assert.equal(ours.ok, false, `${what} was accepted`);
      assert.equal(ours.reason, reason, `${what}: ${ours.message}`);
    }
    for (const [what, signature] of cases.slice(0, 6)) {
      const theirs = await verifyWithSshKeygen({ allowedSigners: allowed, principal: 'alice', namespace, message: statement(), signature, at });
      assert.equal(theirs.ok, false, `ssh-keygen accepted ${what}`);
    }
  });

  test('an expired key (valid-before) and a key not yet valid (valid-after)', async () => {
    const expired = `alice valid-before="20261130" ${keys.ed25519.publicLine}\n`;
    assert.match(await bothRefuse({ allowedSigners: expired, signature: aliceSignature }, 'expired'), /expired at .*valid-before on line 1/);
    const future = `alice valid-after="20261202Z" ${keys.ed25519.publicLine}\n`;
    assert.match(await bothRefuse({ allowedSigners: future, signature: aliceSignature }, 'not-yet-valid'), /valid only from 2026-12-02T00:00:00.000Z/);
    const window = `alice valid-after="20261201000000Z",valid-before="20261201030600Z" ${keys.ed25519.publicLine}\n`;
    assert.equal(verifySshSignature({ allowedSigners: window, principal: 'alice', namespace, message: statement(), signature: aliceSignature, at }).ok, true);
    assert.equal((await verifyWithSshKeygen({ allowedSigners: window, principal: 'alice', namespace, message: statement(), signature: aliceSignature, at })).ok, true);
    const later = new Date('2026-12-01T03:06:01Z');
    await bothRefuse({ allowedSigners: window, signature: aliceSignature, at: later }, 'expired');
  });

  test('a namespaces= option that excludes votes refuses them; one that includes them by pattern admits them', async () => {
    const gitOnly = `alice namespaces="git,file" ${keys.ed25519.publicLine}\n`;
    assert.match(await bothRefuse({ allowedSigners: gitOnly, signature: aliceSignature }, 'namespace-not-allowed'), /limit .* to namespaces "git,file"/);
    const votes = `alice namespaces="git,dr-runbooks-vote@*" ${keys.ed25519.publicLine}\n`;
    assert.equal(verifySshSignature({ allowedSigners: votes, principal: 'alice', namespace, message: statement(), signature: aliceSignature, at }).ok, true);
    assert.equal((await verifyWithSshKeygen({ allowedSigners: votes, principal: 'alice', namespace, message: statement(), signature: aliceSignature, at })).ok, true);
  });

  test('principal patterns: wildcards admit, a negated pattern rules out, as in ssh-keygen', async () => {
    const team = `*@ops.example.com,!mallory@ops.example.com ${keys.ed25519.publicLine}\n`;
    const message = statement({ by: 'alice@ops.example.com' });
    const signature = await signWithSshKeygen({ keyFile: keys.ed25519.privateFile, namespace, message });
    assert.equal(verifySshSignature({ allowedSigners: team, principal: 'alice@ops.example.com', namespace, message, signature }).ok, true);
    assert.equal((await verifyWithSshKeygen({ allowedSigners: team, principal: 'alice@ops.example.com', namespace, message, signature })).ok, true);
    await bothRefuse({ allowedSigners: team, principal: 'mallory@ops.example.com', message, signature }, 'unknown-principal');
    await bothRefuse({ allowedSigners: team, principal: 'alice@example.com', message, signature }, 'unknown-principal');
    const single = `alice?ops ${keys.ed25519.publicLine}\n`;
    const m2 = statement({ by: 'alice.ops' });
    const s2 = await signWithSshKeygen({ keyFile: keys.ed25519.privateFile, namespace, message: m2 });
    assert.equal(verifySshSignature({ allowedSigners: single, principal: 'alice.ops', namespace, message: m2, signature: s2 }).ok, true);
    assert.equal((await verifyWithSshKeygen({ allowedSigners: single, principal: 'alice.ops', namespace, message: m2, signature: s2 })).ok, true);
  });

  test('a cert-authority line does not admit a plain key, and the reason says certificates are not accepted', async () => {
    const ca = `alice cert-authority ${keys.ed25519.publicLine}\n`;
    assert.match(await bothRefuse({ allowedSigners: ca, signature: aliceSignature }, 'key-not-allowed'), /only a certificate authority is listed for them, and certificates are not accepted/);
  });

  test('hostile inputs are refused, never thrown: odd types, huge text, odd principal names', () => {
    for (const signature of [undefined, null, 42, { armored: true }, ['x'], 'x'.repeat(100_000)]) {
      const result = verifySshSignature({ allowedSigners: allowed, principal: 'alice', namespace, message: statement(), signature });
      assert.equal(result.ok, false);
      assert.equal(result.reason, 'malformed-signature');
    }
    for (const principal of ['', 'alice\nbob', 'al ice', 'x'.repeat(2000), 'alice"', '\u0000', 7 as unknown as string]) {
      const result = verifySshSignature({ allowedSigners: allowed, principal, namespace, message: statement(), signature: aliceSignature });
      assert.equal(result.ok, false);
      assert.equal(result.reason, 'invalid-principal');
    }
  });
});

describe('allowed-signers files are read as ssh-keygen and git read them', () => {
  test('comments, blank lines, indentation, trailing key comments, several principals, options in any case', () => {
    const signers = parseAllowedSigners([
      '# Comments allowed at start of line',
      '',
      `   alice@example.com,alice ${keys.ed25519.publicLine}`,
      `bob NAMESPACES="dr-runbooks-vote@v1",Valid-Before="20300101" ${bob.publicLine}`,
      `"carol the dba" ${keys['ecdsa-p256'].publicLine} a comment with spaces`,
      `*@example.com cert-authority ${keys['rsa-3072'].publicLine}`,
      '\t# indented comment',
    ].join('\n'));
    assert.equal(signers.length, 4);
    assert.deepEqual(signers.map((s) => [s.line, s.principals, s.certAuthority]), [
      [3, 'alice@example.com,alice', false],
      [4, 'bob', false],
      [5, 'carol the dba', false],
      [6, '*@example.com', true],
    ]);
    assert.equal(signers[1]?.namespaces, 'dr-runbooks-vote@v1');
    assert.equal(signers[1]?.validBefore, Math.floor(new Date(2030, 0, 1).getTime() / 1000));
    assert.equal(signers[2]?.key?.fingerprint, keys['ecdsa-p256'].fingerprint);
  });

  test('every malformed line is reported with its number and problem, all at once', () => {
    const key = keys.ed25519.publicLine;
    let error: unknown;
    try {
      parseAllowedSigners([
        `alice namespaces=dr-runbooks-vote@v1 ${key}`,
        `bob ${key.split(' ')[0]} !!!notbase64!!!`,
        'carol',
        `dave valid-before="2030-01-01" ${key}`,
        `erin frobnicate ${key}`,
        `frank valid-after="20300101",valid-before="20200101" ${key}`,
        `gina namespaces="a",namespaces="b" ${key}`,
        `harry ssh-ed25519 ${Buffer.from('short').toString('base64')}`,
        `ivan valid-before="20300231" ${key}`,
      ].join('\n'), 'config/allowed_signers');
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof AllowedSignersError);
    assert.match(error.message, /^config\/allowed_signers is not a valid allowed-signers file:/);
    assert.deepEqual(error.problems.map((p) => p.replace(/:.*/, '')), ['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'line 6', 'line 7', 'line 8', 'line 9']);
    assert.match(error.problems[0] as string, /namespaces must be in double quotes/);
    assert.match(error.problems[1] as string, /not valid base64/);
    assert.match(error.problems[2] as string, /principals but no key/);
    assert.match(error.problems[3] as string, /not a time in the form YYYYMMDD/);
    assert.match(error.problems[4] as string, /unknown option "frobnicate"/);
    assert.match(error.problems[5] as string, /valid-before is not after valid-after/);
    assert.match(error.problems[6] as string, /namespaces is given twice/);
    assert.match(error.problems[7] as string, /truncated/);
    assert.match(error.problems[8] as string, /not a real date/);
  });

  test('ssh-keygen refuses the unquoted option we refuse (so a file we reject never verifies for an auditor either)', async () => {
    const message = statement();
    const signature = await signWithSshKeygen({ keyFile: keys.ed25519.privateFile, namespace, message });
    const unquoted = `alice namespaces=${namespace} ${keys.ed25519.publicLine}\n`;
    assert.throws(() => parseAllowedSigners(unquoted), AllowedSignersError);
    assert.equal((await verifyWithSshKeygen({ allowedSigners: unquoted, principal: 'alice', namespace, message, signature })).ok, false);
  });

  test('keys of a type we do not accept are kept as unusable, not fatal: FIDO keys, short RSA', () => {
    const fidoBlob = new SshWriter().string('sk-ssh-ed25519@openssh.com').string(Buffer.alloc(32, 7)).string('ssh:').bytes();
    const shortRsa = path.join(dir, 'short-rsa');
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '1024', '-N', '', '-f', shortRsa]);
    const signers = parseAllowedSigners([
      `zed sk-ssh-ed25519@openssh.com ${fidoBlob.toString('base64')}`,
      `yan ${readFileSync(`${shortRsa}.pub`, 'utf8').trim()}`,
      `alice ${keys.ed25519.publicLine}`,
    ].join('\n'));
    assert.equal(signers.length, 3);
    assert.match(signers[0]?.unsupported ?? '', /security-key \(FIDO\) keys/);
    assert.equal(signers[0]?.key, undefined);
    assert.match(signers[1]?.unsupported ?? '', /RSA key of 1024 bits is too short/);
    assert.ok(signers[2]?.key);
  });

  test('time stamps: Z and UTC mean UTC, none means this machine\'s zone, as parse_absolute_time does', () => {
    const [z, utc, local] = parseAllowedSigners([
      `a valid-before="203001020304Z" ${bob.publicLine}`,
      `b valid-before="20300102030405UTC" ${bob.publicLine}`,
      `c valid-before="20300102" ${bob.publicLine}`,
    ].join('\n'));
    assert.equal(z?.validBefore, Date.UTC(2030, 0, 2, 3, 4) / 1000);
    assert.equal(utc?.validBefore, Date.UTC(2030, 0, 2, 3, 4, 5) / 1000);
    assert.equal(local?.validBefore, new Date(2030, 0, 2).getTime() / 1000);
  });
});
