import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { SshReader, SshWireError, SshWriter } from './wire';

/** The key types an approver may sign with: what `ssh-keygen -t ed25519|ecdsa|rsa` makes. */
export const supportedKeyTypes = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'] as const;
export type SshKeyType = (typeof supportedKeyTypes)[number];

/** RSA keys shorter than this are refused; OpenSSH itself still accepts 1024 bits. */
export const minimumRsaBits = 2048;

export interface SshPublicKey {
  readonly type: SshKeyType;
  /** The canonical wire encoding: what fingerprints are taken of and keys are compared by. */
  readonly blob: Buffer;
  readonly keyObject: KeyObject;
  /** As `ssh-keygen -l` prints it: `SHA256:` and unpadded base64 of the blob's SHA-256. */
  readonly fingerprint: string;
}

export class SshKeyError extends Error {
  override readonly name = 'SshKeyError';
  /** `unsupported`: a well-formed key of a type or size we do not accept; `malformed`: not a valid key. */
  constructor(message: string, readonly kind: 'malformed' | 'unsupported' = 'malformed') {
    super(message);
  }
}

export interface EcdsaCurve {
  readonly sshName: 'nistp256' | 'nistp384' | 'nistp521';
  readonly jwkName: 'P-256' | 'P-384' | 'P-521';
  readonly coordinateBytes: number;
  /** The hash the SSH ECDSA signature of this curve uses (RFC 5656 §6.2.1). */
  readonly hash: 'sha256' | 'sha384' | 'sha512';
}

export const ecdsaCurves: Record<'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384' | 'ecdsa-sha2-nistp521', EcdsaCurve> = {
  'ecdsa-sha2-nistp256': { sshName: 'nistp256', jwkName: 'P-256', coordinateBytes: 32, hash: 'sha256' },
  'ecdsa-sha2-nistp384': { sshName: 'nistp384', jwkName: 'P-384', coordinateBytes: 48, hash: 'sha384' },
  'ecdsa-sha2-nistp521': { sshName: 'nistp521', jwkName: 'P-521', coordinateBytes: 66, hash: 'sha512' },
};

export function isEcdsaType(type: SshKeyType): type is keyof typeof ecdsaCurves {
  return type in ecdsaCurves;
}

/** Why a key type is not accepted, in words a person who picked the key understands. */
export function unsupportedKeyTypeReason(type: string): string {
  if (type.includes('-cert-v01@openssh.com')) return `OpenSSH certificates (${type}) are not accepted: list the key itself in allowed signers`;
  if (type.startsWith('sk-')) return `security-key (FIDO) keys (${type}) are not accepted yet: use an Ed25519, ECDSA or RSA key`;
  if (type === 'ssh-dss') return 'DSA keys (ssh-dss) are not accepted: they are obsolete; use an Ed25519 key';
  return `key type "${type}" is not one of ${supportedKeyTypes.join(', ')}`;
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

export function fingerprintOfBlob(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function finish(type: SshKeyType, blob: Buffer, keyObject: KeyObject): SshPublicKey {
  return { type, blob, keyObject, fingerprint: fingerprintOfBlob(blob) };
}

export function ed25519PublicKey(raw: Uint8Array): SshPublicKey {
  if (raw.length !== 32) throw new SshKeyError(`an ssh-ed25519 public key is 32 bytes, this one is ${raw.length}`);
  const keyObject = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(raw) }, format: 'jwk' });
  return finish('ssh-ed25519', new SshWriter().string('ssh-ed25519').string(raw).bytes(), keyObject);
}

export function ecdsaPublicKey(type: keyof typeof ecdsaCurves, point: Uint8Array): SshPublicKey {
  const curve = ecdsaCurves[type];
  const n = curve.coordinateBytes;
  if (point.length !== 1 + 2 * n || point[0] !== 0x04) {
    throw new SshKeyError(`an ${type} public key is an uncompressed point of ${1 + 2 * n} bytes starting 0x04`);
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({
      key: { kty: 'EC', crv: curve.jwkName, x: b64url(point.subarray(1, 1 + n)), y: b64url(point.subarray(1 + n)) },
      format: 'jwk',
    });
  } catch (error) {
    throw new SshKeyError(`the ${type} public key is not a point on ${curve.jwkName}: ${(error as Error).message}`);
  }
  return finish(type, new SshWriter().string(type).string(curve.sshName).string(point).bytes(), keyObject);
}

export function rsaPublicKey(exponent: Uint8Array, modulus: Uint8Array): SshPublicKey {
  const e = Buffer.from(exponent);
  const n = Buffer.from(modulus);
  const bits = n.length === 0 ? 0 : (n.length - 1) * 8 + (n[0] as number).toString(2).length;
  if (bits < minimumRsaBits) throw new SshKeyError(`an RSA key of ${bits} bits is too short: use at least ${minimumRsaBits} bits, or an Ed25519 key`, 'unsupported');
  if (e.length === 0 || ((e[e.length - 1] as number) & 1) === 0) throw new SshKeyError('the RSA public exponent is not a valid (odd, positive) number');
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' });
  } catch (error) {
    throw new SshKeyError(`the RSA public key is not usable: ${(error as Error).message}`);
  }
  return finish('ssh-rsa', new SshWriter().string('ssh-rsa').mpint(e).mpint(n).bytes(), keyObject);
}

/** Reads a public key from its wire encoding (the base64 field of a key line, or the key in an SSHSIG). */
export function parsePublicKeyBlob(blob: Uint8Array): SshPublicKey {
  try {
    const r = new SshReader(blob, 'the public key');
    const type = r.text();
    let key: SshPublicKey;
    if (type === 'ssh-ed25519') {
      key = ed25519PublicKey(r.string());
    } else if (type === 'ecdsa-sha2-nistp256' || type === 'ecdsa-sha2-nistp384' || type === 'ecdsa-sha2-nistp521') {
      const curveName = r.text();
      if (curveName !== ecdsaCurves[type].sshName) throw new SshKeyError(`an ${type} key names curve "${curveName}"`);
      key = ecdsaPublicKey(type, r.string());
    } else if (type === 'ssh-rsa') {
      const e = r.mpint();
      key = rsaPublicKey(e, r.mpint());
    } else {
      throw new SshKeyError(unsupportedKeyTypeReason(type), 'unsupported');
    }
    r.end();
    return key;
  } catch (error) {
    if (error instanceof SshWireError) throw new SshKeyError(error.message);
    throw error;
  }
}

/** Reads `type base64 [comment]`, the form of a `.pub` file and of the key in an allowed-signers line. */
export function parsePublicKeyText(text: string): SshPublicKey {
  const [type, data] = text.trim().split(/[ \t]+/);
  if (!type || !data) throw new SshKeyError('a public key is written as "<type> <base64>", e.g. the content of id_ed25519.pub');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw new SshKeyError(`the ${type} key's base64 field is not valid base64`);
  const key = parsePublicKeyBlob(Buffer.from(data, 'base64'));
  if (key.type !== type) throw new SshKeyError(`the key line says "${type}" but the key inside is ${key.type}`);
  return key;
}

/** `type base64`, as in a `.pub` file or an allowed-signers line. */
export function formatPublicKey(key: SshPublicKey): string {
  return `${key.type} ${key.blob.toString('base64')}`;
}
