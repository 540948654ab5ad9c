import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';

/**
 * The sealed envelope archives and manifests are stored in: AES-256-GCM with a fresh 96-bit IV, the
 * key named by id (the secret store holds it). Layout:
 *
 *   "DRSEAL01" | u32 big-endian header length | header JSON | ciphertext | 16-byte GCM tag
 *
 * The magic, length and header (key id, IV, what the envelope holds) are the GCM additional data, so
 * they are authenticated with the content: a flipped byte anywhere, a truncated or extended envelope, a
 * header pointing at another key or another backup all fail the tag check.
 */

/** Reads a key by id from the secret store; wired to the SecretStore port by the worker. */
export type KeyFunction = (keyId: string) => Promise<Buffer>;

export interface EnvelopeHeader {
  format: 'dr-seal/1';
  cipher: 'aes-256-gcm';
  keyId: string;
  /** base64 of the 12-byte IV. */
  iv: string;
  /** What is sealed, and for which backup: binds an archive and its manifest together. */
  contents: 'archive' | 'manifest';
  backupId: string;
  archiveKind: string;
}

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
}

const magic = Buffer.from('DRSEAL01', 'ascii');
const tagLength = 16;
const maxHeaderLength = 64 * 1024;

async function keyOf(keyFor: KeyFunction, keyId: string): Promise<Buffer> {
  const key = await keyFor(keyId);
  if (key.length !== 32) throw new EnvelopeError(`encryption key "${keyId}" is ${key.length} bytes; AES-256-GCM needs exactly 32 (e.g. openssl rand 32)`);
  return key;
}

function preamble(header: EnvelopeHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return Buffer.concat([magic, length, json]);
}

function newHeader(fields: Pick<EnvelopeHeader, 'keyId' | 'contents' | 'backupId' | 'archiveKind'>): EnvelopeHeader {
  return { format: 'dr-seal/1', cipher: 'aes-256-gcm', ...fields, iv: randomBytes(12).toString('base64') };
}

/** Parses an envelope's header without authenticating it (that happens with the content). */
export function readEnvelopeHeader(data: Buffer): { header: EnvelopeHeader; bodyOffset: number } {
  if (data.length < magic.length + 4 || !data.subarray(0, magic.length).equals(magic)) throw new EnvelopeError('not a sealed envelope (its first bytes are not "DRSEAL01")');
  const length = data.readUInt32BE(magic.length);
  const bodyOffset = magic.length + 4 + length;
  if (length > maxHeaderLength || data.length < bodyOffset + tagLength) throw new EnvelopeError('envelope is truncated (shorter than its header and tag)');
  let header: EnvelopeHeader;
  try {
    header = JSON.parse(data.subarray(magic.length + 4, bodyOffset).toString('utf8')) as EnvelopeHeader;
  } catch {
    throw new EnvelopeError('envelope header is not valid JSON (the envelope is corrupt)');
  }
  if (header.format !== 'dr-seal/1' || header.cipher !== 'aes-256-gcm' || typeof header.keyId !== 'string' || Buffer.from(String(header.iv), 'base64').length !== 12) {
    throw new EnvelopeError(`envelope header is not one this version reads (format ${JSON.stringify(header.format)}, cipher ${JSON.stringify(header.cipher)})`);
  }
  return { header, bodyOffset };
}

/** Seals a small payload (a manifest) in memory. */
export async function seal(plaintext: Buffer, fields: Pick<EnvelopeHeader, 'keyId' | 'contents' | 'backupId' | 'archiveKind'>, keyFor: KeyFunction): Promise<Buffer> {
  const header = newHeader(fields);
  const head = preamble(header);
  const cipher = createCipheriv('aes-256-gcm', await keyOf(keyFor, header.keyId), Buffer.from(header.iv, 'base64'));
  cipher.setAAD(head);
  return Buffer.concat([head, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** A stream that seals what is piped through it: the header first, the tag at the end. */
export async function sealingStream(fields: Pick<EnvelopeHeader, 'keyId' | 'contents' | 'backupId' | 'archiveKind'>, keyFor: KeyFunction): Promise<Transform> {
  const header = newHeader(fields);
  const head = preamble(header);
  const cipher = createCipheriv('aes-256-gcm', await keyOf(keyFor, header.keyId), Buffer.from(header.iv, 'base64'));
  cipher.setAAD(head);
  let started = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const out = cipher.update(chunk);
      if (!started) { started = true; callback(null, Buffer.concat([head, out])); } else callback(null, out);
    },
    flush(callback) {
      const tail = Buffer.concat([cipher.final(), cipher.getAuthTag()]);
      callback(null, started ? tail : Buffer.concat([head, tail]));
    },
  });
}

function decipherFor(data: Buffer, header: EnvelopeHeader, bodyOffset: number, key: Buffer) {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(header.iv, 'base64'));
  decipher.setAAD(data.subarray(0, bodyOffset));
  decipher.setAuthTag(data.subarray(data.length - tagLength));
  return decipher;
}

const authenticationFailed = () => new EnvelopeError('authentication failed: the envelope was altered, truncated or sealed with another key');

/** Opens a small envelope in memory; throws unless it authenticates. */
export async function unseal(data: Buffer, keyFor: KeyFunction): Promise<{ header: EnvelopeHeader; plaintext: Buffer }> {
  const { header, bodyOffset } = readEnvelopeHeader(data);
  const decipher = decipherFor(data, header, bodyOffset, await keyOf(keyFor, header.keyId));
  const body = decipher.update(data.subarray(bodyOffset, data.length - tagLength));
  try {
    return { header, plaintext: Buffer.concat([body, decipher.final()]) };
  } catch {
    throw authenticationFailed();
  }
}

/**
 * Decrypts a large envelope into a file, chunk by chunk. The file is only trustworthy once this
 * resolves (the tag is checked at the end); on failure it is truncated to nothing.
 */
export async function unsealToFile(data: Buffer, keyFor: KeyFunction, file: string, signal?: AbortSignal): Promise<{ header: EnvelopeHeader; sizeBytes: number }> {
  const { header, bodyOffset } = readEnvelopeHeader(data);
  const decipher = decipherFor(data, header, bodyOffset, await keyOf(keyFor, header.keyId));
  const handle = await open(file, 'w', 0o600);
  let sizeBytes = 0;
  try {
    const end = data.length - tagLength;
    for (let offset = bodyOffset; offset < end; offset += 1 << 20) {
      signal?.throwIfAborted();
      const out = decipher.update(data.subarray(offset, Math.min(end, offset + (1 << 20))));
      await handle.write(out);
      sizeBytes += out.length;
    }
    let last: Buffer;
    try {
      last = decipher.final();
    } catch {
      await handle.truncate(0);
      throw authenticationFailed();
    }
    await handle.write(last);
    sizeBytes += last.length;
    return { header, sizeBytes };
  } finally {
    await handle.close();
  }
}
