import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/**
 * Encrypts every payload (inputs, results, signal and update arguments, memo, failure details) before it
 * reaches the Temporal server, so the stored history holds ciphertext. AES-256-GCM; the whole original
 * payload (metadata and data) is encrypted, and the new payload says only how and with which key:
 *
 *   metadata: encoding = "binary/encrypted", encryption-key-id = <id>, encryption-cipher = "AES-256-GCM"
 *   data:     12-byte nonce ‖ ciphertext ‖ 16-byte tag (the key id is authenticated as associated data)
 *
 * Keys rotate by id: new payloads use the current id, old ones are decoded with the id they name, so a
 * history written before a rotation still replays as long as the old key stays in the key ring.
 * Search attributes are not payloads a codec sees: they stay plaintext, so never put customer data there.
 */

export const encryptedEncoding = 'binary/encrypted';
export const keyIdMetadataKey = 'encryption-key-id';
export const cipherMetadataKey = 'encryption-cipher';
export const cipherName = 'AES-256-GCM';

const nonceBytes = 12;
const tagBytes = 16;
const keyIdPattern = /^[A-Za-z0-9._:@/+-]{1,128}$/;

export interface PayloadKeyRing {
  /** The id new payloads are encrypted with (a function, so a rotation takes effect without a restart). */
  currentKeyId: string | (() => string);
  /** The 32-byte key of an id, or undefined if there is none (e.g. read from the worker's secret store). */
  getKey(keyId: string): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

export class PayloadCodecError extends Error {
  override readonly name = 'PayloadCodecError';
  constructor(message: string, readonly keyId?: string) {
    super(message);
  }
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

function shown(keyId: string): string {
  return JSON.stringify(keyId.length > 128 ? `${keyId.slice(0, 128)}…` : keyId);
}

export function checkKeyId(keyId: unknown): string {
  if (typeof keyId !== 'string' || !keyIdPattern.test(keyId)) {
    throw new PayloadCodecError(`an encryption key id is 1–128 characters of A–Z a–z 0–9 . _ : @ / + -, got ${typeof keyId === 'string' ? shown(keyId) : typeof keyId}`);
  }
  return keyId;
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly ring: PayloadKeyRing) {}

  private currentKeyId(): string {
    return checkKeyId(typeof this.ring.currentKeyId === 'function' ? this.ring.currentKeyId() : this.ring.currentKeyId);
  }

  /** A key by id; cached once found (an id names one key forever: rotating means a new id). */
  private async key(keyId: string, purpose: 'encrypt' | 'decrypt'): Promise<Buffer> {
    const cached = this.keys.get(keyId);
    if (cached) return cached;
    const found = await this.ring.getKey(keyId);
    if (found === undefined) {
      throw new PayloadCodecError(
        purpose === 'decrypt'
          ? `this payload was encrypted with key id ${shown(keyId)}, which the key ring does not have: add that key back to the secret store (old keys must stay while histories written with them are read)`
          : `the current encryption key id ${shown(keyId)} has no key in the key ring: store a 32-byte key under that id`,
        keyId,
      );
    }
    if (found.length !== 32) throw new PayloadCodecError(`the key with id ${shown(keyId)} is ${found.length} bytes; AES-256-GCM needs exactly 32`, keyId);
    const key = Buffer.from(found);
    this.keys.set(keyId, key);
    return key;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    if (payloads.length === 0) return payloads;
    const keyId = this.currentKeyId();
    const key = await this.key(keyId, 'encrypt');
    return payloads.map((payload) => {
      const nonce = randomBytes(nonceBytes);
      const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: tagBytes });
      cipher.setAAD(utf8(keyId));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: utf8(encryptedEncoding),
          [keyIdMetadataKey]: utf8(keyId),
          [cipherMetadataKey]: utf8(cipherName),
        },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map((payload) => this.decodeOne(payload)));
  }

  private async decodeOne(payload: Payload): Promise<Payload> {
    // Payloads written before encryption was turned on (or by a client without the codec) pass as they are.
    if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== encryptedEncoding) return payload;
    const rawKeyId = text(payload.metadata?.[keyIdMetadataKey]);
    if (rawKeyId === undefined) throw new PayloadCodecError(`an encrypted payload has no ${keyIdMetadataKey}: it was not written by this codec`);
    const keyId = checkKeyId(rawKeyId);
    const cipherSaid = text(payload.metadata?.[cipherMetadataKey]) ?? cipherName;
    if (cipherSaid !== cipherName) throw new PayloadCodecError(`an encrypted payload uses cipher ${shown(cipherSaid)}; this codec knows only ${cipherName}`, keyId);
    const data = payload.data ?? new Uint8Array();
    if (data.length < nonceBytes + tagBytes) throw new PayloadCodecError(`an encrypted payload (key id ${shown(keyId)}) is too short to hold a nonce and tag: it is damaged`, keyId);
    const key = await this.key(keyId, 'decrypt');
    const sealed = Buffer.from(data);
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, nonceBytes), { authTagLength: tagBytes });
    decipher.setAAD(utf8(keyId));
    decipher.setAuthTag(sealed.subarray(sealed.length - tagBytes));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(sealed.subarray(nonceBytes, sealed.length - tagBytes)), decipher.final()]);
    } catch {
      throw new PayloadCodecError(`an encrypted payload (key id ${shown(keyId)}) failed authentication: it was altered, or the key stored under that id is not the one it was written with`, keyId);
    }
    const decoded = temporal.api.common.v1.Payload.decode(plain);
    return { metadata: decoded.metadata, data: decoded.data, ...(decoded.externalPayloads?.length ? { externalPayloads: decoded.externalPayloads } : {}) };
  }
}

/** A key ring from a fixed map (tests, or keys already read from the secret store at start-up). */
export function staticKeyRing(currentKeyId: string, keys: Record<string, Uint8Array>): PayloadKeyRing {
  checkKeyId(currentKeyId);
  for (const id of Object.keys(keys)) checkKeyId(id);
  return { currentKeyId, getKey: (id) => (Object.prototype.hasOwnProperty.call(keys, id) ? keys[id] : undefined) };
}
