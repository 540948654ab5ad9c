import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createSecretsDirectory } from '../../activities/adapters/local/secrets-directory';
import { canonicalJson, canonicalTimestamp } from '../../activities/audit-hash';
import { findSecretLikeValues } from '../../activities/audit-secrets';
import { createUsedCodesInMemory } from '../../activities/vote-codes';
import { createVoteProofActivities, defaultTotpSecretName } from '../../activities/vote-proofs';
import { signVote, type VoteToSign } from '../../client/vote-signing';
import type { RunbookResult, RunbookStatus } from '../../contracts/runbook-status';
import { verifyWithSshKeygen } from '../../lib/ssh-signature';
import { generateTotpSecret, totpCode } from '../../lib/totp';
import { startTemporalServer, type TemporalServer } from '../../stack/temporal-server';
import { abortSignal, abortUpdate, approveSignal, approveUpdate, rejectUpdate, statusQuery } from '../../workflows/messages';
import { cutoverGate, fixtureActivities, reportStore, fixtureBundle, fixtureInput, fixturePlan, gateOpen, newRecorder, startFixture, waitForStatus, withFixtureWorker, type FixtureRecorder } from '../support/fixture-runbook';
import { quietTemporalLogs } from '../support/quiet-logs';
import { makeSshKey, type TestSshKey } from '../support/ssh-keys';

// Votes that prove who cast them (issue 11), on the real dev server: the fixture runbook's gate needs an
// SSH signature or a one-time code; the proofs are checked by the real activity (real ssh-keygen keys, an
// allowed-signers file, TOTP secrets in a secrets directory). Every forged vote, by Update and by Signal,
// is refused with its reason, recorded, and leaves the gate as it was; the valid ones count, and the
// signature the audit trail keeps verifies with `ssh-keygen -Y verify` alone.
let server: TemporalServer;
let env: TestWorkflowEnvironment;
let dir: string;
const keys = {} as Record<'alice' | 'bob' | 'carol' | 'mallory', TestSshKey>;
const totp = {} as Record<'alice' | 'bob', string>;

before(async () => {
  quietTemporalLogs();
  dir = mkdtempSync(path.join(os.tmpdir(), 'dr-vote-proofs-'));
  keys.alice = makeSshKey(dir, 'alice', 'ed25519');
  keys.bob = makeSshKey(dir, 'bob', 'ecdsa-p256');
  keys.carol = makeSshKey(dir, 'carol', 'rsa-3072');
  keys.mallory = makeSshKey(dir, 'mallory', 'ed25519');
  // dave is an approver and an incident commander, but has no key here: nothing he signs can count.
  writeFileSync(path.join(dir, 'allowed_signers'), ['alice', 'bob', 'carol'].map((p) => `${p} ${keys[p as 'alice'].publicLine}`).join('\n') + '\n');
  const secretsDir = path.join(dir, 'secrets');
  for (const who of ['alice', 'bob'] as const) {
    totp[who] = generateTotpSecret();
    writeSecret(secretsDir, defaultTotpSecretName(who), totp[who]);
  }
  server = await startTemporalServer({ stateDir: path.join(dir, 'temporal') });
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address, namespace: server.namespace });
  await fixtureBundle();
});

after(async () => {
  await env?.teardown();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function writeSecret(secretsDir: string, name: string, value: string) {
  mkdirSync(secretsDir, { recursive: true });
  writeFileSync(path.join(secretsDir, name), value + '\n', { mode: 0o600 });
}

const plan = fixturePlan({ cutover: cutoverGate({ authentication: 'ssh-or-totp' }) }, { commanders: ['alice', 'bob', 'dave'], authentication: 'ssh-or-totp' });

/** A worker for one test; its runbooks share one record of used codes (as runbooks of one control database do). */
function run<T>(rec: FixtureRecorder, fn: (taskQueue: string) => Promise<T>) {
  const proofs = createVoteProofActivities({ allowedSignersFile: path.join(dir, 'allowed_signers'), secrets: createSecretsDirectory(path.join(dir, 'secrets')), totpSecretName: defaultTotpSecretName, usedCodes: createUsedCodesInMemory(), maxClockSkewMs: 5 * 60_000 });
  return withFixtureWorker(env.nativeConnection, server.namespace, { ...fixtureActivities(rec, { plan }), ...proofs }, fn);
}

async function statementOf(handle: WorkflowHandle, vote: Omit<VoteToSign, 'namespace' | 'workflowId' | 'runId'>): Promise<VoteToSign> {
  return { namespace: server.namespace, workflowId: handle.workflowId, runId: (await handle.describe()).runId, ...vote };
}

/** A vote as `dr approve --key` sends it: the statement of this run, signed. */
async function signed(handle: WorkflowHandle, approver: string, key: TestSshKey, over: Partial<VoteToSign> = {}, now?: Date) {
  const statement = { ...(await statementOf(handle, { gate: 'cutover', decision: 'approve', by: approver, comment: 'checks green' })), ...over };
  return { gate: 'cutover', approver, comment: 'checks green', ...(await signVote(statement, key.privateFile, { now })) };
}

const status = (handle: WorkflowHandle): Promise<RunbookStatus> => handle.query(statusQuery);

/** Sends a forged vote by Update (refused at once) and by Signal (refused on the timeline); the gate is unchanged. */
async function refusedBoth(handle: WorkflowHandle, vote: object, reason: RegExp, rec: FixtureRecorder) {
  const before = await status(handle);
  const error = await handle.executeUpdate(approveUpdate, { args: [vote as never] }).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof WorkflowUpdateFailedError, `the Update is refused: ${JSON.stringify(vote).slice(0, 200)}`);
  assert.match((error.cause as Error).message, reason);
  await handle.signal(approveSignal, vote as never);
  const after = await waitForStatus(handle, (s) => (s.refusedMessages ?? 0) >= (before.refusedMessages ?? 0) + 2, 'both refusals recorded');
  const refusals = after.timeline.filter((e) => e.outcome === 'refused').slice(-2);
  assert.deepEqual(refusals.map((e) => e.step.split(' from ')[0]), ['approve update', 'approve signal']);
  for (const refusal of refusals) assert.match(refusal.detail ?? '', reason);
  assert.deepEqual(after.openGates[0]!.approvals, before.openGates[0]!.approvals, 'the gate is unchanged');
  assert.equal(after.openGates[0]!.status, 'open');
  return rec;
}

describe('votes that prove who cast them', () => {
  test('each kind of forged vote, by Update and by Signal, is refused with its reason and recorded; a valid SSH-signed and a valid TOTP vote pass; ssh-keygen -Y verify accepts the signature the audit trail keeps', { timeout: 120_000 }, async () => {
    const rec = newRecorder();
    await run(rec, async (taskQueue) => {
      const handle = await startFixture(env.client, taskQueue, fixtureInput());
      const waiting = await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
      assert.equal(waiting.openGates[0]!.authentication, 'ssh-or-totp');
      assert.match(waiting.timeline.find((e) => e.step === 'gate cutover')!.detail!, /each vote needs an SSH signature .* or a one-time code/);

      const forged: Array<[string, object, RegExp]> = [
        ['a typed name without proof', { gate: 'cutover', approver: 'alice', comment: 'trust me' }, /no proof: a typed name proves nothing/],
        ['a signature by the wrong key', await signed(handle, 'alice', keys.mallory), /proof refused \(key-not-allowed\): the key SHA256:\S+ is not allowed to sign for "alice"/],
        ['a signature for another gate', { ...(await signed(handle, 'alice', keys.alice, { gate: 'repair' })), gate: 'cutover' }, /proof refused \(bad-signature\)/],
        ['a signature for another run', await signed(handle, 'alice', keys.alice, { runId: '0190b6a4-7f00-7000-8000-000000000001' }), /proof refused \(bad-signature\)/],
        ['a signature for another decision', await signed(handle, 'alice', keys.alice, { decision: 'reject' }), /proof refused \(bad-signature\)/],
        ['a signature with another comment', { ...(await signed(handle, 'alice', keys.alice)), comment: 'edited after signing' }, /proof refused \(bad-signature\)/],
        ['a statement signed long ago', await signed(handle, 'alice', keys.alice, {}, new Date(Date.now() - 20 * 60_000)), /proof refused \(stale-statement\)/],
        ['an unlisted signer', await signed(handle, 'dave', keys.mallory, { by: 'dave' }), /proof refused \(unknown-principal\): "dave" is not in the allowed signers/],
        ['a stale code', { gate: 'cutover', approver: 'bob', code: totpCode(totp.bob, Date.now() - 5 * 60_000) }, /proof refused \(stale-code\)/],
        ['a code of another approver', { gate: 'cutover', approver: 'bob', code: totpCode(totp.alice, Date.now()) }, /proof refused \((wrong|stale)-code\)/],
        ['a code that is not one', { gate: 'cutover', approver: 'bob', code: 'one two three' }, /code: a one-time code is 6 digits/],
      ];
      for (const [, vote, reason] of forged) await refusedBoth(handle, vote, reason, rec);

      // The valid SSH vote (Update), then its exact replay (by Signal and Update) is refused as a replay.
      const aliceVote = await signed(handle, 'alice', keys.alice);
      const first = await handle.executeUpdate(approveUpdate, { args: [aliceVote] });
      assert.deepEqual(first, { gate: 'cutover', status: 'open', approvals: ['alice'], approvalsStillNeeded: 1 });
      await refusedBoth(handle, aliceVote, /this signature was already used in this runbook/, rec);
      await refusedBoth(handle, { ...aliceVote, approver: 'bob' }, /this signature was already used in this runbook/, rec);

      // The valid TOTP vote, by Signal from the Web UI's form: {"gate":"cutover","approver":"bob","code":"492039"}.
      await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob', code: totpCode(totp.bob, Date.now()) });
      const result = (await handle.result()) as RunbookResult;
      assert.equal(result.verdict, 'completed');
      const gate = result.gates.find((g) => g.gate === 'cutover')!;
      assert.deepEqual(gate.approvals.map((v) => [v.approver, v.proof?.method]), [['alice', 'ssh'], ['bob', 'totp']]);
      assert.match(gate.approvals[0]!.proof!.fingerprint!, new RegExp(keys.alice.fingerprint.replace(/[+/]/g, '\\$&')));
      assert.equal(result.refusedMessages, forged.length * 2 + 4);

      // The audit trail: every refusal with its reason, and what an auditor needs to check alice's vote alone.
      const refused = rec.audit.filter((e) => e.action === 'approve-refused');
      assert.equal(refused.length, forged.length * 2 + 4);
      for (const [, , reason] of forged) assert.ok(refused.some((e) => reason.test(String(e.detail.reason))), `audited: ${reason}`);
      const approvals = rec.audit.filter((e) => e.action === 'gate-approved');
      const proof = approvals.find((e) => e.actor === 'alice')!.detail.proof as { statement: string; signature: string; allowedSignersLine: string; principal: string; signatureNamespace: string };
      assert.equal(proof.allowedSignersLine, `alice ${keys.alice.publicLine}`);
      const audit = await verifyWithSshKeygen({ allowedSigners: proof.allowedSignersLine + '\n', principal: proof.principal, namespace: proof.signatureNamespace, message: proof.statement, signature: proof.signature });
      assert.ok(audit.ok, audit.output);
      assert.match(audit.output, /Good "dr-runbooks-vote@v1" signature for alice/);
      assert.match(proof.statement, new RegExp(`^dr-runbooks vote v1\\nnamespace: default\\nworkflow-id: ${handle.workflowId}\\nrun-id: [0-9a-f-]{36}\\ngate: cutover\\ndecision: approve\\nby: alice\\n`));
      const bobProof = approvals.find((e) => e.actor === 'bob')!.detail.proof as Record<string, unknown>;
      assert.deepEqual(Object.keys(bobProof).sort(), ['method', 'principal', 'step'], 'a code is never kept, only its time step');
      assert.ok(!JSON.stringify(rec.audit).includes(totp.bob), 'no TOTP secret in the trail');
    });
  });

  test('a code is used once, across runbooks; the starter cannot approve with a valid signature; only proven incident commanders abort', { timeout: 120_000 }, async () => {
    const rec = newRecorder();
    await run(rec, async (taskQueue) => {
      // Run A takes bob's code; run B (started by alice) is given the same code at once.
      const a = await startFixture(env.client, taskQueue, fixtureInput({ incidentId: 'INC-A' }));
      const b = await startFixture(env.client, taskQueue, fixtureInput({ incidentId: 'INC-B', startedBy: 'alice' }));
      await waitForStatus(a, gateOpen('cutover'), 'A at its gate');
      await waitForStatus(b, gateOpen('cutover'), 'B at its gate');
      const code = totpCode(totp.bob, Date.now());
      assert.equal((await a.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob', code }] })).approvals[0], 'bob');
      const reused = await b.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob', code }] }).then(() => undefined, (e: unknown) => e);
      assert.ok(reused instanceof WorkflowUpdateFailedError);
      assert.match((reused.cause as Error).message, /proof refused \(reused-code\)/);

      // The two-person rule holds against a perfectly valid signature of the starter.
      const starter = await b.executeUpdate(approveUpdate, { args: [await signed(b, 'alice', keys.alice)] }).then(() => undefined, (e: unknown) => e);
      assert.ok(starter instanceof WorkflowUpdateFailedError);
      assert.match((starter.cause as Error).message, /two-person rule: "alice" started this runbook/);
      // A rejection needs its proof too.
      const reject = await b.executeUpdate(rejectUpdate, { args: [{ gate: 'cutover', approver: 'carol', comment: 'no' }] }).then(() => undefined, (e: unknown) => e);
      assert.match(((reject as WorkflowUpdateFailedError).cause as Error).message, /no proof/);

      // Abort: not a commander (carol has a valid key); a commander without proof; one for another run; then a proven one.
      const abortOf = async (handle: WorkflowHandle, by: string, key: TestSshKey, over: Partial<VoteToSign> = {}) => ({ by, reason: 'wrong incident', ...(await signVote({ ...(await statementOf(handle, { gate: '', decision: 'abort', by, comment: 'wrong incident' })), ...over }, key.privateFile)) });
      const refusedAborts: Array<[object, RegExp]> = [
        [await abortOf(a, 'carol', keys.carol), /"carol" is not an incident commander of this runbook \(alice, bob, dave\)/],
        [{ by: 'alice', reason: 'wrong incident' }, /no proof: a typed name proves nothing/],
        [await abortOf(b, 'alice', keys.alice), /proof refused \(bad-signature\)/],
      ];
      for (const [request, reason] of refusedAborts) {
        const error = await a.executeUpdate(abortUpdate, { args: [request as never] }).then(() => undefined, (e: unknown) => e);
        assert.ok(error instanceof WorkflowUpdateFailedError);
        assert.match((error.cause as Error).message, reason);
        await a.signal(abortSignal, request as never);
      }
      const stillOpen = await waitForStatus(a, (s) => (s.refusedMessages ?? 0) >= 6, 'six abort refusals recorded');
      assert.equal(stillOpen.phase, 'waiting-for-approval', 'the runbook carries on');
      assert.deepEqual(stillOpen.timeline.filter((e) => e.step.startsWith('abort ')).map((e) => e.step), ['abort update from carol', 'abort signal from carol', 'abort update from alice', 'abort signal from alice', 'abort update from alice', 'abort signal from alice']);
      assert.deepEqual(await a.executeUpdate(abortUpdate, { args: [await abortOf(a, 'alice', keys.alice)] }), { accepted: true });
      const aborted = (await a.result()) as RunbookResult;
      assert.equal(aborted.verdict, 'aborted');
      assert.equal(aborted.abort?.proof?.method, 'ssh');
      assert.ok(rec.audit.some((e) => e.action === 'abort' && e.actor === 'alice' && (e.detail.proof as { method?: string })?.method === 'ssh'));

      await b.executeUpdate(abortUpdate, { args: [{ by: 'bob', reason: 'done', code: totpCode(totp.bob, Date.now() + 30_000) }] });
      assert.equal(((await b.result()) as RunbookResult).verdict, 'aborted');
    });
  });

  test('a corpus of hostile payloads to every handler (approve, reject, abort; Signal and Update; the status Query) leaves the runbook running, then it completes', { timeout: 180_000 }, async () => {
    const rec = newRecorder();
    await run(rec, async (taskQueue) => {
      const handle = await startFixture(env.client, taskQueue, fixtureInput({ incidentId: 'INC-HOSTILE' }));
      await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
      const megabyte = 'x'.repeat(1024 * 1024);
      const otherRun = await signed(handle, 'alice', keys.alice, { workflowId: 'server-failure-INC-1-someone-else' });
      const votes: unknown[] = [
        undefined, null, 0, 'approve', true, [], ['cutover', 'alice'],
        {}, { gate: '' }, { gate: 'cutover' }, { approver: 'alice' }, { gate: 'cutover', approver: '   ' },
        { gate: 42, approver: {} }, { gate: ['cutover'], approver: 'alice' }, { gate: 'cutover', approver: 'alice', comment: { text: 'x' } },
        { gate: 'cutover', approver: 'alice', code: { digits: 123456 } }, { gate: 'cutover', approver: 'alice', signature: 12, time: [] },
        { gate: megabyte, approver: 'alice' }, { gate: 'cutover', approver: megabyte }, { gate: 'cutover', approver: 'alice', comment: megabyte },
        { gate: 'cutover', approver: 'alice', signature: `-----BEGIN SSH SIGNATURE-----\n${megabyte}`, time: new Date().toISOString() },
        { gate: 'cutover', approver: 'alice\n2026-12-01 03:00 approved by bob', comment: 'looks fine' },
        { gate: 'cutover\r\n', approver: 'alice' }, { gate: 'cutover', approver: 'alice', comment: 'nul \u0000 here' }, { gate: 'cutover', approver: 'alice', comment: 'bidi \u202e evil' },
        { gate: 'cutover', approver: 'alice', comment: 'broken \ud800 char' }, { gate: 'cutover', approver: '\ud83d' },
        { gate: 'cutover', approver: 'postgres://admin:hunter2@db.internal/prod' }, { gate: 'cutover', approver: 'alice', comment: 'see postgres://admin:hunter2@db.internal/prod' },
        { gate: 'toString', approver: 'alice' }, { gate: '__proto__', approver: 'alice' }, { gate: 'constructor', approver: 'constructor' },
        JSON.parse('{"__proto__": {"polluted": true}, "gate": "cutover", "approver": "alice"}'),
        { gate: 'cutover', approver: 'runbook', comment: 'impersonating the runbook' },
        otherRun, { ...otherRun, signature: otherRun.signature.replace(/[A-Za-z]/, (c) => (c === 'A' ? 'B' : 'A')) },
        { gate: 'cutover', approver: 'bob', code: 123 }, { gate: 'cutover', approver: 'bob', code: '99999999999999999999' },
      ];
      const aborts: unknown[] = [
        undefined, null, 'abort', [], {}, { by: 'alice' }, { reason: 'x' }, { by: '', reason: 'x' }, { by: 42, reason: [] },
        { by: megabyte, reason: 'x' }, { by: 'alice', reason: megabyte }, { by: 'alice', reason: 'x'.repeat(5000) },
        { by: 'alice\nroot', reason: 'x' }, { by: 'alice', reason: 'line\nbreak' }, { by: 'alice', reason: 'see https://ops:hunter2@vault.internal' },
        { by: 'alice', reason: 'no proof at all' }, { by: 'alice', reason: 'garbage', signature: '-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----', time: new Date().toISOString() },
        { by: 'mallory', reason: 'not a commander' }, otherRun,
      ];
      let sent = 0;
      for (const payload of votes) {
        for (const update of [approveUpdate, rejectUpdate]) {
          const error = await handle.executeUpdate(update, { args: payload === undefined ? ([] as never) : [payload as never] }).then(() => undefined, (e: unknown) => e);
          assert.ok(error instanceof WorkflowUpdateFailedError, `refused: ${JSON.stringify(payload)?.slice(0, 120)}`);
        }
        await handle.signal(approveSignal, ...((payload === undefined ? [] : [payload]) as [never]));
        sent += 3;
      }
      for (const payload of aborts) {
        const error = await handle.executeUpdate(abortUpdate, { args: payload === undefined ? ([] as never) : [payload as never] }).then(() => undefined, (e: unknown) => e);
        assert.ok(error instanceof WorkflowUpdateFailedError, `abort refused: ${JSON.stringify(payload)?.slice(0, 120)}`);
        await handle.signal(abortSignal, ...((payload === undefined ? [] : [payload]) as [never]));
        sent += 2;
      }
      // Payloads no converter can read (an unknown encoding, bytes that are not JSON), sent as the raw API allows.
      for (const [encoding, data] of [['foo/bar', 'x'], ['json/plain', '{not json'], ['json/protobuf', 'garbage']] as const) {
        for (const signalName of ['approve', 'reject', 'abort']) {
          await env.client.workflowService.signalWorkflowExecution({
            namespace: server.namespace, workflowExecution: { workflowId: handle.workflowId }, signalName, identity: 'hostile',
            input: { payloads: [{ metadata: { encoding: Buffer.from(encoding) }, data: Buffer.from(data) }] },
          });
          sent += 1;
        }
      }
      // A query with arguments, a signal nobody handles and an update nobody handles change nothing either.
      await handle.query(statusQuery, ...([{ evil: true }] as unknown as []));
      await handle.signal('approvee', { gate: 'cutover' });
      assert.ok(await handle.executeUpdate('approvee', { args: [{}] }).then(() => false, () => true), 'an unknown update is refused');

      const still = await waitForStatus(handle, (st) => (st.refusedMessages ?? 0) >= sent, `all ${sent} refusals counted`);
      assert.equal(still.phase, 'waiting-for-approval', 'the runbook is still waiting at its gate');
      assert.deepEqual(still.openGates[0]!.approvals, [], 'nothing counted');
      assert.ok(still.timeline.some((e) => e.step === 'refused messages'), 'past a hundred, refusals are counted, not each recorded');


      // And it carries on to completion.
      await handle.executeUpdate(approveUpdate, { args: [await signed(handle, 'alice', keys.alice)] });
      await handle.executeUpdate(approveUpdate, { args: [await signed(handle, 'bob', keys.bob)] });
      const result = (await handle.result()) as RunbookResult;
      assert.equal(result.verdict, 'completed', result.verdictDetail);
      assert.equal(result.refusedMessages, sent);

      // Everything recorded is in a safe form: the trail's writer takes every entry, no password, no forged line.
      for (const entry of rec.audit) {
        canonicalJson(entry.detail);
        canonicalJson(entry.actor);
        canonicalTimestamp(entry.at);
        assert.deepEqual(findSecretLikeValues(entry.detail), [], JSON.stringify(entry).slice(0, 200));
        assert.ok(JSON.stringify(entry).length < 8_000, `a short entry: ${JSON.stringify(entry).slice(0, 200)}`);
      }
      const all = JSON.stringify({ audit: rec.audit, timeline: result.timeline });
      assert.ok(!all.includes('hunter2'), 'passwords redacted');
      assert.ok(!/[\u0000-\u0008\u000b-\u001f\u202e]/.test(all.replace(/\\u/g, '')), 'no raw control character recorded');
      assert.ok(rec.audit.some((e) => e.actor === 'claimed:runbook'), 'a message claiming to be the runbook is recorded as a claim');
      const report = (await reportStore.get(`reports/${handle.workflowId}.md`))!.toString('utf8');
      assert.ok(report.startsWith('# DR runbook report: fixture · INC-HOSTILE · COMPLETED'));
      assert.ok(report.includes('alice\\\\u{a}2026-12-01 03:00 approved by bob'), 'the line break is shown escaped, in its own row');
      assert.ok(!report.split('\n').some((line) => line.startsWith('2026-12-01 03:00 approved by bob')), 'no input forged a line');
    });
  });

  test('dr approve|reject|abort sign the vote statement of the run with the person\'s SSH key (or send a one-time code); the runbook checks it', { timeout: 120_000 }, async () => {
    const root = path.join(__dirname, '..', '..');
    const dr = (...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [path.join(root, 'client', 'bin', 'dr.js'), ...args], { cwd: root, timeout: 60_000, env: { PATH: process.env.PATH ?? '', HOME: dir, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace } },
        (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
    const rec = newRecorder();
    await run(rec, async (taskQueue) => {
      const handle = await startFixture(env.client, taskQueue, fixtureInput({ incidentId: 'INC-DR-SIGN' }));
      await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
      const unsigned = await dr('approve', handle.workflowId, '--gate', 'cutover', '--as', 'alice');
      assert.equal(unsigned.code, 3, unsigned.stderr);
      assert.match(unsigned.stderr, /^dr: refused: no proof: a typed name proves nothing/);
      const wrongKey = await dr('approve', handle.workflowId, '--gate', 'cutover', '--as', 'alice', '--key', keys.mallory.privateFile);
      assert.equal(wrongKey.code, 3);
      assert.match(wrongKey.stderr, /key-not-allowed/);
      const missingKey = await dr('approve', handle.workflowId, '--gate', 'cutover', '--as', 'alice', '--key', path.join(dir, 'no-such-key'));
      assert.equal(missingKey.code, 2, missingKey.stderr);
      assert.match(missingKey.stderr, /ssh-keygen could not sign with .*no-such-key/);
      const signedVote = await dr('approve', handle.workflowId, '--gate', 'cutover', '--as', 'alice', '--key', keys.alice.privateFile, '--comment', 'validation green');
      assert.equal(signedVote.code, 0, signedVote.stderr);
      assert.match(signedVote.stdout, /approval by alice recorded on gate "cutover" \(1 approval\(s\): alice\); 1 more needed/);
      const byCode = await dr('approve', handle.workflowId, '--gate', 'cutover', '--as', 'bob', '--code', totpCode(totp.bob, Date.now()));
      assert.equal(byCode.code, 0, byCode.stderr);
      assert.equal(((await handle.result()) as RunbookResult).verdict, 'completed');
      const proof = rec.audit.find((e) => e.action === 'gate-approved' && e.actor === 'alice')!.detail.proof as { statement: string };
      assert.match(proof.statement, /\ncomment: validation green\n/);

      const other = await startFixture(env.client, taskQueue, fixtureInput({ incidentId: 'INC-DR-ABORT' }));
      await waitForStatus(other, gateOpen('cutover'), 'cutover gate open');
      const notCommander = await dr('abort', other.workflowId, '--as', 'carol', '--reason', 'stop', '--key', keys.carol.privateFile);
      assert.equal(notCommander.code, 3);
      assert.match(notCommander.stderr, /not an incident commander/);
      const aborted = await dr('abort', other.workflowId, '--as', 'alice', '--reason', 'wrong incident', '--key', keys.alice.privateFile);
      assert.equal(aborted.code, 0, aborted.stderr);
      assert.equal(((await other.result()) as RunbookResult).verdict, 'aborted');
    });
  });
});
