import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ecdsaCurves, ecdsaPublicKey, ed25519PublicKey, parsePublicKeyBlob, rsaPublicKey, SshKeyError, unsupportedKeyTypeReason, type SshPublicKey } from './public-key';
import type { NodeSigningKey } from './sshsig';
import { SshReader, SshWireError } from './wire';

// The openssh-key-v1 container (PROTOCOL.key in the OpenSSH sources), what `ssh-keygen` writes by default.
const opensshBegin = '-----BEGIN OPENSSH PRIVATE KEY-----';
const opensshEnd = '-----END OPENSSH PRIVATE KEY-----';
const authMagic = Buffer.from('openssh-key-v1\0', 'latin1');

const encryptedKeyFix = 'sign with ssh-keygen instead (signSshMessageWithSshKeygen / `dr approve --ssh-keygen`), which asks for the passphrase or uses ssh-agent';

function toBigInt(magnitude: Buffer): bigint {
  return BigInt('0x' + (magnitude.toString('hex') || '0'));
}

function bigIntToB64url(value: bigint): string {
  let hex = value.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Buffer.from(hex, 'hex').toString('base64url');
}

/** The SSH public key of a key pair Node holds (Ed25519, P-256/384/521 or RSA). */
export function sshPublicKeyOf(key: KeyObject): SshPublicKey {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' }) as JsonWebKey;
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return ed25519PublicKey(Buffer.from(jwk.x ?? '', 'base64url'));
  if (jwk.kty === 'EC') {
    const entry = Object.entries(ecdsaCurves).find(([, curve]) => curve.jwkName === jwk.crv);
    if (!entry) throw new SshKeyError(`ECDSA keys on curve ${jwk.crv} are not accepted: use P-256, P-384 or P-521`);
    const [type] = entry as [keyof typeof ecdsaCurves, unknown];
    return ecdsaPublicKey(type, Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]));
  }
  if (jwk.kty === 'RSA') return rsaPublicKey(Buffer.from(jwk.e ?? '', 'base64url'), Buffer.from(jwk.n ?? '', 'base64url'));
  throw new SshKeyError(`a ${key.asymmetricKeyType ?? 'symmetric'} key cannot sign SSH signatures: use an Ed25519, ECDSA or RSA key`);
}

function parseOpensshContainer(text: string, file: string): NodeSigningKey {
  const endAt = text.indexOf(opensshEnd);
  if (endAt < 0) throw new SshKeyError(`${file} has no "${opensshEnd}" line`);
  const bytes = Buffer.from(text.slice(text.indexOf(opensshBegin) + opensshBegin.length, endAt).replace(/\s+/g, ''), 'base64');
  const r = new SshReader(bytes, file);
  if (!r.raw(authMagic.length).equals(authMagic)) throw new SshKeyError(`${file} is not an openssh-key-v1 private key`);
  const cipher = r.text();
  const kdf = r.text();
  r.string(); // kdf options
  if (cipher !== 'none' || kdf !== 'none') throw new SshKeyError(`${file} is protected by a passphrase (${cipher}/${kdf}); ${encryptedKeyFix}`);
  const count = r.uint32();
  if (count !== 1) throw new SshKeyError(`${file} holds ${count} keys; one key per file is expected`);
  const publicBlob = r.string();
  const secret = new SshReader(r.string(), `${file} (private section)`);
  r.end();
  if (secret.uint32() !== secret.uint32()) throw new SshKeyError(`${file} is corrupt (its check numbers differ)`);
  const type = secret.text();
  let privateKey: KeyObject;
  let publicKey: SshPublicKey;
  if (type === 'ssh-ed25519') {
    const pub = secret.string();
    const sk = secret.string();
    if (sk.length !== 64) throw new SshKeyError(`${file} holds an ssh-ed25519 secret of ${sk.length} bytes, not 64`);
    publicKey = ed25519PublicKey(pub);
    privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url'), d: sk.subarray(0, 32).toString('base64url') }, format: 'jwk' });
  } else if (type === 'ecdsa-sha2-nistp256' || type === 'ecdsa-sha2-nistp384' || type === 'ecdsa-sha2-nistp521') {
    const curve = ecdsaCurves[type];
    if (secret.text() !== curve.sshName) throw new SshKeyError(`${file}: the ${type} key names another curve`);
    const point = secret.string();
    const d = secret.mpint();
    publicKey = ecdsaPublicKey(type, point);
    const n = curve.coordinateBytes;
    const pad = (b: Buffer) => Buffer.concat([Buffer.alloc(Math.max(0, n - b.length)), b]).toString('base64url');
    privateKey = createPrivateKey({
      key: { kty: 'EC', crv: curve.jwkName, x: point.subarray(1, 1 + n).toString('base64url'), y: point.subarray(1 + n).toString('base64url'), d: pad(d) },
      format: 'jwk',
    });
  } else if (type === 'ssh-rsa') {
    const [n, e, d, iqmp, p, q] = [secret.mpint(), secret.mpint(), secret.mpint(), secret.mpint(), secret.mpint(), secret.mpint()];
    publicKey = rsaPublicKey(e, n);
    const [dBig, pBig, qBig] = [toBigInt(d), toBigInt(p), toBigInt(q)];
    privateKey = createPrivateKey({
      key: {
        kty: 'RSA',
        n: n.toString('base64url'),
        e: e.toString('base64url'),
        d: d.toString('base64url'),
        p: p.toString('base64url'),
        q: q.toString('base64url'),
        dp: bigIntToB64url(dBig % (pBig - 1n)),
        dq: bigIntToB64url(dBig % (qBig - 1n)),
        qi: iqmp.toString('base64url'),
      },
      format: 'jwk',
    });
  } else {
    throw new SshKeyError(`${file}: ${unsupportedKeyTypeReason(type)}`);
  }
  if (!parsePublicKeyBlob(publicBlob).blob.equals(publicKey.blob) || !sshPublicKeyOf(privateKey).blob.equals(publicKey.blob)) {
    throw new SshKeyError(`${file} is corrupt: its public and private halves differ`);
  }
  return { publicKey, privateKey };
}

/**
 * Reads an unencrypted private key as ssh-keygen writes it (openssh-key-v1, or PEM/PKCS#8 with `-m PEM`).
 * A passphrase-protected key is refused with the fix: sign through ssh-keygen, which can ask or use the agent.
 */
export function parseSshPrivateKey(text: string, file = 'the private key'): NodeSigningKey {
  try {
    if (text.includes(opensshBegin)) return parseOpensshContainer(text, file);
    if (/ENCRYPTED/.test(text)) throw new SshKeyError(`${file} is protected by a passphrase; ${encryptedKeyFix}`);
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) throw new SshKeyError(`${file} is not a private key (expected "${opensshBegin}")`);
    const privateKey = createPrivateKey(text);
    return { publicKey: sshPublicKeyOf(privateKey), privateKey };
  } catch (error) {
    if (error instanceof SshKeyError) throw error;
    if (error instanceof SshWireError) throw new SshKeyError(`${file} is corrupt: ${error.message}`);
    throw new SshKeyError(`${file} could not be read as a private key: ${(error as Error).message}`);
  }
}

export function readSshPrivateKeyFile(file: string): NodeSigningKey {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SshKeyError(`cannot read the private key ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseSshPrivateKey(text, file);
}
