import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmPayloadCodec, PayloadCodecError, staticKeyRing, type PayloadKeyRing } from '../../lib/payload-codec';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const input = { database: 'ledger', recoveryTarget: '2026-12-01T03:00:00Z', note: 'ünïcödé 😀', amounts: [1, 2.5, -3] };

function tamper(payload: Payload, index: number): Payload {
  const data = Buffer.from(payload.data ?? []);
  data[index] = (data[index] as number) ^ 0x01;
  return { ...payload, data };
}

describe('AES-256-GCM payload codec', () => {
  test('round trip: what the converter made comes back byte for byte, metadata included', async () => {
    const codec = new AesGcmPayloadCodec(staticKeyRing('k1', { k1 }));
    const payloads = [defaultPayloadConverter.toPayload(input), defaultPayloadConverter.toPayload(null), defaultPayloadConverter.toPayload(new Uint8Array([0, 1, 2])), defaultPayloadConverter.toPayload('x'.repeat(100_000))];
    const encoded = await codec.encode(payloads);
    assert.equal(encoded.length, payloads.length);
    const decoded = await codec.decode(encoded);
    assert.deepEqual(decoded.map((p) => defaultPayloadConverter.fromPayload(p)), [input, null, new Uint8Array([0, 1, 2]), 'x'.repeat(100_000)]);
    decoded.forEach((payload, i) => {
      assert.deepEqual(Object.keys(payload.metadata ?? {}).sort(), Object.keys(payloads[i]?.metadata ?? {}).sort());
      for (const [key, value] of Object.entries(payloads[i]?.metadata ?? {})) assert.deepEqual(Buffer.from(payload.metadata?.[key] ?? []), Buffer.from(value));
    });
  });

  test('the stored payload says only how it is encrypted and with which key; the plaintext is not in it', async () => {
    const codec = new AesGcmPayloadCodec(staticKeyRing('k1', { k1 }));
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(input)]);
    assert.deepEqual(Object.fromEntries(Object.entries(encoded?.metadata ?? {}).map(([k, v]) => [k, text(v)])), {
      encoding: 'binary/encrypted',
      'encryption-key-id': 'k1',
      'encryption-cipher': 'AES-256-GCM',
    });
    assert.ok(!Buffer.from(encoded?.data ?? []).includes('ledger'));
    assert.ok(!Buffer.from(encoded?.data ?? []).includes('json/plain'));
  });

  test('every encryption uses a fresh nonce: the same payload never gives the same ciphertext', async () => {
    const codec = new AesGcmPayloadCodec(staticKeyRing('k1', { k1 }));
    const payload = defaultPayloadConverter.toPayload(input);
    const [a, b] = await codec.encode([payload, payload]);
    assert.notDeepEqual(Buffer.from(a?.data ?? []), Buffer.from(b?.data ?? []));
  });

  test('payloads that were never encrypted pass through decode unchanged', async () => {
    const codec = new AesGcmPayloadCodec(staticKeyRing('k1', { k1 }));
    const plain = defaultPayloadConverter.toPayload(input);
    const [decoded] = await codec.decode([plain]);
    assert.equal(decoded, plain);
  });

  test('rotation: after the current key changes, new payloads use it and old ones still decode by their key id', async () => {
    let current = 'k1';
    const ring: PayloadKeyRing = { currentKeyId: () => current, getKey: (id) => ({ k1, k2 } as Record<string, Buffer>)[id] };
    const codec = new AesGcmPayloadCodec(ring);
    const [old] = await codec.encode([defaultPayloadConverter.toPayload('before rotation')]);
    current = 'k2';
    const [fresh] = await codec.encode([defaultPayloadConverter.toPayload('after rotation')]);
    assert.equal(text(old?.metadata?.['encryption-key-id']), 'k1');
    assert.equal(text(fresh?.metadata?.['encryption-key-id']), 'k2');
    // A codec made after the rotation (a restarted worker) reads both.
    const restarted = new AesGcmPayloadCodec(staticKeyRing('k2', { k1, k2 }));
    assert.deepEqual((await restarted.decode([old as Payload, fresh as Payload])).map((p) => defaultPayloadConverter.fromPayload(p)), ['before rotation', 'after rotation']);
  });

  test('a payload whose key id the ring lacks fails with a message naming the key id', async () => {
    const [old] = await new AesGcmPayloadCodec(staticKeyRing('k-2025-11', { 'k-2025-11': k1 })).encode([defaultPayloadConverter.toPayload(input)]);
    const withoutOld = new AesGcmPayloadCodec(staticKeyRing('k-2026-01', { 'k-2026-01': k2 }));
    await assert.rejects(withoutOld.decode([old as Payload]), (error: unknown) =>
      error instanceof PayloadCodecError && error.keyId === 'k-2025-11' && /encrypted with key id "k-2025-11", which the key ring does not have: add that key back/.test(error.message));
  });

  test('tampered ciphertext, nonce or tag is refused; so is a payload relabelled with another key id', async () => {
    const codec = new AesGcmPayloadCodec(staticKeyRing('k1', { k1, k2 }));
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(input)]);
    const payload = encoded as Payload;
    const size = payload.data?.length ?? 0;
    for (const index of [0, 11, 12, size - 17, size - 1]) {
      await assert.rejects(codec.decode([tamper(payload, index)]), /failed authentication: it was altered/);
    }
    const relabelled = { ...payload, metadata: { ...payload.metadata, 'encryption-key-id': Buffer.from('k2') } };
    await assert.rejects(codec.decode([relabelled]), /key id "k2"\) failed authentication/);
    const truncated = { ...payload, data: Buffer.from(payload.data ?? []).subarray(0, 20) };
    await assert.rejects(codec.decode([truncated]), /too short to hold a nonce and tag/);
    const wrongKey = new AesGcmPayloadCodec(staticKeyRing('k1', { k1: k2 }));
    await assert.rejects(wrongKey.decode([payload]), /not the one it was written with/);
  });

  test('malformed encrypted payloads and bad keys are named, not decoded', async () => {
    const codec = new AesGcmPayloadCodec(staticKeyRing('k1', { k1 }));
    const enc = Buffer.from('binary/encrypted');
    await assert.rejects(codec.decode([{ metadata: { encoding: enc }, data: Buffer.alloc(40) }]), /has no encryption-key-id/);
    await assert.rejects(codec.decode([{ metadata: { encoding: enc, 'encryption-key-id': Buffer.from('k1\n2') }, data: Buffer.alloc(40) }]), /encryption key id is 1–128 characters/);
    await assert.rejects(codec.decode([{ metadata: { encoding: enc, 'encryption-key-id': Buffer.from('k1'), 'encryption-cipher': Buffer.from('ROT13') }, data: Buffer.alloc(40) }]), /uses cipher "ROT13"/);
    await assert.rejects(new AesGcmPayloadCodec(staticKeyRing('short', { short: randomBytes(16) })).encode([defaultPayloadConverter.toPayload(1)]), /"short" is 16 bytes; AES-256-GCM needs exactly 32/);
    await assert.rejects(new AesGcmPayloadCodec({ currentKeyId: 'missing', getKey: () => undefined }).encode([defaultPayloadConverter.toPayload(1)]), /current encryption key id "missing" has no key/);
    assert.throws(() => staticKeyRing('bad id', {}), /encryption key id/);
  });

  test('a key the ring did not have yet is looked up again later (a key added to the secret store)', async () => {
    const store: Record<string, Buffer> = {};
    const codec = new AesGcmPayloadCodec({ currentKeyId: 'k1', getKey: async (id) => store[id] });
    await assert.rejects(codec.encode([defaultPayloadConverter.toPayload(1)]), /has no key/);
    store.k1 = k1;
    const encoded = await codec.encode([defaultPayloadConverter.toPayload(1)]);
    assert.equal(defaultPayloadConverter.fromPayload((await codec.decode(encoded))[0] as Payload), 1);
  });
});
