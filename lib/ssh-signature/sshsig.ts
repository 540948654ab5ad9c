import { constants, createHash, sign, verify, type KeyObject } from 'node:crypto';
import { ecdsaCurves, isEcdsaType, parsePublicKeyBlob, SshKeyError, type SshPublicKey } from './public-key';
import { padStart, SshReader, SshWireError, SshWriter } from './wire';

// The OpenSSH signature format, PROTOCOL.sshsig in the OpenSSH sources: what `ssh-keygen -Y sign` writes
// and `ssh-keygen -Y verify` and `git verify-commit` read.
const magic = Buffer.from('SSHSIG');
const version = 1;
const armorBegin = '-----BEGIN SSH SIGNATURE-----';
const armorEnd = '-----END SSH SIGNATURE-----';

export const sshsigHashAlgorithms = ['sha512', 'sha256'] as const;
export type SshsigHashAlgorithm = (typeof sshsigHashAlgorithms)[number];

/** RSA signature algorithms a verifier accepts: SHA-2 only, as OpenSSH does; `ssh-rsa` (SHA-1) is refused. */
export const rsaSignatureAlgorithms = ['rsa-sha2-512', 'rsa-sha2-256'] as const;
export type RsaSignatureAlgorithm = (typeof rsaSignatureAlgorithms)[number];

export interface SshSignature {
  readonly publicKey: SshPublicKey;
  readonly namespace: string;
  readonly hashAlgorithm: SshsigHashAlgorithm;
  /** The algorithm inside the signature: the key type, or rsa-sha2-512/rsa-sha2-256 for RSA keys. */
  readonly signatureAlgorithm: string;
  /** The algorithm-specific signature bytes (for ECDSA still the SSH `mpint r, mpint s` encoding). */
  readonly signatureBlob: Buffer;
}

/** The signature is not a well-formed SSHSIG object; the message says what is wrong with it. */
export class SshSignatureFormatError extends Error {
  override readonly name = 'SshSignatureFormatError';
}

/** What is actually signed: the preamble, namespace, reserved field, hash algorithm and the message's hash. */
export function sshsigSignedData(namespace: string, hashAlgorithm: SshsigHashAlgorithm, message: Uint8Array): Buffer {
  return new SshWriter()
    .raw(magic)
    .string(namespace)
    .string('')
    .string(hashAlgorithm)
    .string(createHash(hashAlgorithm).update(message).digest())
    .bytes();
}

export function encodeSshSignature(signature: SshSignature): Buffer {
  const inner = new SshWriter().string(signature.signatureAlgorithm).string(signature.signatureBlob).bytes();
  return new SshWriter()
    .raw(magic)
    .uint32(version)
    .string(signature.publicKey.blob)
    .string(signature.namespace)
    .string('')
    .string(signature.hashAlgorithm)
    .string(inner)
    .bytes();
}

/** The armored text, byte for byte as `ssh-keygen -Y sign` writes it (base64 wrapped at 70 columns). */
export function armorSshSignature(encoded: Uint8Array): string {
  const b64 = Buffer.from(encoded).toString('base64');
  const lines = b64.match(/.{1,70}/g) ?? [];
  return `${armorBegin}\n${lines.join('\n')}\n${armorEnd}\n`;
}

function dearmor(armored: string): Buffer {
  if (typeof armored !== 'string') throw new SshSignatureFormatError('the signature is not text');
  const text = armored.replace(/\r\n/g, '\n').trim();
  if (!text.startsWith(armorBegin + '\n')) throw new SshSignatureFormatError(`the signature does not start with "${armorBegin}"`);
  const endAt = text.indexOf('\n' + armorEnd, armorBegin.length);
  if (endAt < 0) throw new SshSignatureFormatError(`the signature has no "${armorEnd}" line`);
  if (text.slice(endAt + 1 + armorEnd.length).trim() !== '') throw new SshSignatureFormatError(`there is text after "${armorEnd}"`);
  const body = text.slice(armorBegin.length + 1, endAt).replace(/\n/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) throw new SshSignatureFormatError('the signature body is not valid base64');
  const bytes = Buffer.from(body, 'base64');
  if (bytes.toString('base64') !== body) throw new SshSignatureFormatError('the signature body is not canonical base64');
  return bytes;
}

/** Reads an armored SSHSIG; throws SshSignatureFormatError (or SshKeyError for the key inside) if malformed. */
export function parseArmoredSshSignature(armored: string): SshSignature {
  return decodeSshSignature(dearmor(armored));
}

export function decodeSshSignature(encoded: Uint8Array): SshSignature {
  try {
    const r = new SshReader(encoded, 'the signature');
    if (!r.raw(magic.length).equals(magic)) throw new SshSignatureFormatError('the signature does not start with the SSHSIG preamble');
    const v = r.uint32();
    if (v !== version) throw new SshSignatureFormatError(`the signature is SSHSIG version ${v}; only version ${version} is known`);
    const publicKey = parsePublicKeyBlob(r.string());
    const namespace = r.text();
    r.string(); // reserved: ignored when not empty, as PROTOCOL.sshsig says
    const hashAlgorithm = r.text();
    if (!(sshsigHashAlgorithms as readonly string[]).includes(hashAlgorithm)) {
      throw new SshSignatureFormatError(`the signature uses hash "${hashAlgorithm}"; only ${sshsigHashAlgorithms.join(' and ')} are accepted`);
    }
    const inner = new SshReader(r.string(), 'the signature value');
    r.end();
    const signatureAlgorithm = inner.text();
    const signatureBlob = inner.string();
    inner.end();
    return { publicKey, namespace, hashAlgorithm: hashAlgorithm as SshsigHashAlgorithm, signatureAlgorithm, signatureBlob };
  } catch (error) {
    if (error instanceof SshWireError) throw new SshSignatureFormatError(error.message);
    throw error;
  }
}

/**
 * Checks the signature's mathematics against the key it carries: it says nothing about whether that key
 * may sign (the allowed-signers file decides that). Throws SshSignatureFormatError for a signature whose
 * algorithm does not fit its key; returns false when the signature does not match the message.
 */
export function sshSignatureMatches(signature: SshSignature, message: Uint8Array): boolean {
  const key = signature.publicKey;
  const data = sshsigSignedData(signature.namespace, signature.hashAlgorithm, message);
  const algorithm = signature.signatureAlgorithm;
  const blob = signature.signatureBlob;
  if (key.type === 'ssh-ed25519') {
    if (algorithm !== 'ssh-ed25519') throw new SshSignatureFormatError(`an ssh-ed25519 key cannot make a "${algorithm}" signature`);
    if (blob.length !== 64) return false;
    return verify(null, data, key.keyObject, blob);
  }
  if (isEcdsaType(key.type)) {
    if (algorithm !== key.type) throw new SshSignatureFormatError(`an ${key.type} key cannot make a "${algorithm}" signature`);
    const curve = ecdsaCurves[key.type];
    let p1363: Buffer;
    try {
      const r = new SshReader(blob, 'the ECDSA signature');
      const rBytes = r.mpint();
      const sBytes = r.mpint();
      r.end();
      p1363 = Buffer.concat([padStart(rBytes, curve.coordinateBytes), padStart(sBytes, curve.coordinateBytes)]);
    } catch (error) {
      if (error instanceof SshWireError) return false;
      throw error;
    }
    return verify(curve.hash, data, { key: key.keyObject, dsaEncoding: 'ieee-p1363' }, p1363);
  }
  if (algorithm === 'ssh-rsa') {
    throw new SshSignatureFormatError('the RSA signature uses ssh-rsa (SHA-1), which is refused: sign again with a current ssh-keygen (it uses rsa-sha2-512)');
  }
  if (!(rsaSignatureAlgorithms as readonly string[]).includes(algorithm)) {
    throw new SshSignatureFormatError(`an ssh-rsa key cannot make a "${algorithm}" signature`);
  }
  const modulusBytes = Math.ceil((key.keyObject.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  if (blob.length > modulusBytes) return false;
  // OpenSSH pads a short RSA signature to the modulus length before it checks it; so do we.
  return verify(algorithm === 'rsa-sha2-512' ? 'sha512' : 'sha256', data, { key: key.keyObject, padding: constants.RSA_PKCS1_PADDING }, padStart(blob, modulusBytes));
}

export interface NodeSigningKey {
  readonly publicKey: SshPublicKey;
  readonly privateKey: KeyObject;
}

export interface SignOptions {
  hashAlgorithm?: SshsigHashAlgorithm;
  /** For RSA keys only; rsa-sha2-512 (what ssh-keygen uses) by default. */
  rsaAlgorithm?: RsaSignatureAlgorithm;
}

/** Signs with a key Node holds; the result is what `ssh-keygen -Y sign` would print for the same key. */
export function signSshMessage(key: NodeSigningKey, namespace: string, message: Uint8Array, options: SignOptions = {}): string {
  if (!namespace) throw new SshKeyError('a signature needs a namespace (e.g. "dr-runbooks-vote@v1")');
  const hashAlgorithm = options.hashAlgorithm ?? 'sha512';
  const data = sshsigSignedData(namespace, hashAlgorithm, message);
  const type = key.publicKey.type;
  let signatureAlgorithm: string;
  let signatureBlob: Buffer;
  if (type === 'ssh-ed25519') {
    signatureAlgorithm = type;
    signatureBlob = sign(null, data, key.privateKey);
  } else if (isEcdsaType(type)) {
    const curve = ecdsaCurves[type];
    const p1363 = sign(curve.hash, data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    signatureAlgorithm = type;
    signatureBlob = new SshWriter().mpint(p1363.subarray(0, curve.coordinateBytes)).mpint(p1363.subarray(curve.coordinateBytes)).bytes();
  } else {
    signatureAlgorithm = options.rsaAlgorithm ?? 'rsa-sha2-512';
    signatureBlob = sign(signatureAlgorithm === 'rsa-sha2-512' ? 'sha512' : 'sha256', data, { key: key.privateKey, padding: constants.RSA_PKCS1_PADDING });
  }
  return armorSshSignature(encodeSshSignature({ publicKey: key.publicKey, namespace, hashAlgorithm, signatureAlgorithm, signatureBlob }));
}
