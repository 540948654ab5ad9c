import { defaultPayloadConverter, type Payload, type PayloadConverter } from '@temporalio/common';

/**
 * The default JSON/binary payload converter, except that a payload it cannot read (an encoding nobody
 * knows, bytes that are not JSON: what a hostile sender can put in a Signal or an Update) becomes a value
 * the handlers refuse and record, instead of an error that fails every workflow task of the runbook and
 * leaves it stuck. Loaded by path (DataConverter.payloadConverterPath) in the worker and its workflow sandbox.
 */
export interface UnreadablePayload {
  unreadablePayload: string;
}

export function isUnreadablePayload(value: unknown): value is UnreadablePayload {
  return typeof value === 'object' && value !== null && typeof (value as UnreadablePayload).unreadablePayload === 'string';
}

class MessagePayloadConverter implements PayloadConverter {
  toPayload<T>(value: T): Payload {
    return defaultPayloadConverter.toPayload(value);
  }

  fromPayload<T>(payload: Payload): T {
    try {
      return defaultPayloadConverter.fromPayload<T>(payload);
    } catch (error) {
      const ascii = (bytes: Uint8Array | null | undefined) => (bytes ? String.fromCharCode(...bytes.slice(0, 128)) : '');
      const sealed = ascii(payload.metadata?.encoding) === 'binary/encrypted';
      const why = sealed ? `sealed with a key this worker does not have (key id ${ascii(payload.metadata?.['encryption-key-id']) || 'none'})` : error instanceof Error ? error.message.slice(0, 200) : 'unreadable';
      return { unreadablePayload: why } as T;
    }
  }
}

export const payloadConverter = new MessagePayloadConverter();
