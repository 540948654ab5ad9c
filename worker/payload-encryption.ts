import type { DataConverter, PayloadCodec } from '@temporalio/common';
import type { SecretStore } from '../activities/ports/secret-store';
import { AesGcmPayloadCodec, PayloadCodecError, type PayloadKeyRing } from '../lib/payload-codec';
import type { WorkerConfig } from './config';

/**
 * The payload codec of an environment (config payloadEncryption): AES-256-GCM with the keys of the secret
 * store (`payload-key-<id>`, base64 of 32 bytes), new payloads under the current id, old ones read with the
 * id they name. The worker and every client (dr, the demo, the codec server) build it the same way.
 */
export function payloadCodecFor(config: Pick<WorkerConfig, 'payloadEncryption'>, secrets: SecretStore): AesGcmPayloadCodec | undefined {
  const settings = config.payloadEncryption;
  if (!settings) return undefined;
  const ring: PayloadKeyRing = {
    currentKeyId: settings.currentKeyId,
    async getKey(keyId) {
      const name = `${settings.keySecretPrefix}${keyId}`;
      let value: string;
      try {
        value = (await secrets.read(name)).value;
      } catch {
        return undefined;
      }
      const key = Buffer.from(value.trim(), 'base64');
      if (key.length !== 32) throw new PayloadCodecError(`the secret ${name} holds ${key.length} bytes after base64 decoding; a payload key is 32 bytes (openssl rand -base64 32)`, keyId);
      return key;
    },
  };
  return new AesGcmPayloadCodec(ring);
}

/**
 * The data converter for the worker and clients: the codec when payloads are encrypted, and failures'
 * messages and stack traces encoded too (they can quote what a step found), so history holds no plaintext.
 */
export function dataConverterFor(codec: AesGcmPayloadCodec | undefined): DataConverter {
  if (!codec) return {};
  return { payloadCodecs: [codec], failureConverterPath: require.resolve('../workflows/failure-converter') };
}

/**
 * The worker's side of the codec: a payload it cannot decrypt (a Signal someone sealed with a key this
 * environment does not have, or damaged bytes) is passed on as it came, so the payload converter makes it
 * a message the runbook refuses and records, instead of a workflow task that fails forever. Clients keep
 * the strict codec: a person reading a result is told the key is missing.
 */
export function workerDataConverterFor(codec: AesGcmPayloadCodec | undefined, warn: (line: string) => void = (line) => console.warn(line)): DataConverter {
  const converter: DataConverter = { ...dataConverterFor(codec), payloadConverterPath: workerPayloadConverterPath };
  if (!codec) return converter;
  const lenient: PayloadCodec = {
    encode: (payloads) => codec.encode(payloads),
    decode: (payloads) =>
      Promise.all(payloads.map((payload) => codec.decode([payload]).then(([decoded]) => decoded!, (error: Error) => {
        warn(`worker: a payload could not be decrypted and is passed on unread (the runbook refuses it if it is a message): ${error.message}`);
        return payload;
      }))),
  };
  return { ...converter, payloadCodecs: [lenient] };
}

/** The payload converter the worker loads (workflows/payload-converter.ts): an unreadable message is refused, not fatal. */
export const workerPayloadConverterPath = require.resolve('../workflows/payload-converter');
