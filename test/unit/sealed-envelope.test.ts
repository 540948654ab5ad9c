import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, test } from 'node:test';
import { readEnvelopeHeader, seal, sealingStream, unseal, unsealToFile, type KeyFunction } from '../../activities/adapters/local/file-backup/envelope';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dr-envelope-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const keys: Record<string, Buffer> = { 'files-2026': randomBytes(32), 'files-2025': randomBytes(32), short: randomBytes(16) };
const keyFor: KeyFunction = async (keyId) => {
  const key = keys[keyId];
  if (!key) throw new Error(`no key ${keyId}`);
  return key;
};
const fields = { keyId: 'files-2026', contents: 'archive' as const, backupId: 'b-1', archiveKind: 'documents' };

test('seal/unseal round trip; the header names the key and a fresh IV, never the key itself', async () => {
  const plaintext = Buffer.from('manifest body');
  const sealed = await seal(plaintext, fields, keyFor);
  const again = await seal(plaintext, fields, keyFor);
  const { header } = readEnvelopeHeader(sealed);
  assert.equal(header.keyId, 'files-2026');
  assert.notEqual(header.iv, readEnvelopeHeader(again).header.iv, 'every envelope gets its own IV');
  assert.ok(!sealed.includes(keys['files-2026']!), 'the key is not in the envelope');
  assert.ok(!sealed.includes(plaintext), 'the content is encrypted');
  assert.deepEqual((await unseal(sealed, keyFor)).plaintext, plaintext);
});

test('every flipped byte, a truncation, an extension or another key is refused', async () => {
  const sealed = await seal(Buffer.from('x'.repeat(100)), fields, keyFor);
  for (let i = 0; i < sealed.length; i++) {
    const altered = Buffer.from(sealed);
    altered[i] = altered[i]! ^ 0x40;
    await assert.rejects(unseal(altered, keyFor), /authentication failed|not a sealed envelope|header|truncated|no key/, `byte ${i}`);
  }
  for (const cut of [1, 16, 40]) await assert.rejects(unseal(sealed.subarray(0, sealed.length - cut), keyFor), /authentication failed|truncated/);
  await assert.rejects(unseal(Buffer.concat([sealed, Buffer.from([0])]), keyFor), /authentication failed/);
  // The same bytes claimed for another key id (header rewritten, length kept): the header is authenticated.
  const swapped = Buffer.from(sealed.toString('latin1').replace('files-2026', 'files-2025'), 'latin1');
  await assert.rejects(unseal(swapped, keyFor), /authentication failed/);
});

test('a key that is not 32 bytes is refused by name', async () => {
  await assert.rejects(seal(Buffer.from('x'), { ...fields, keyId: 'short' }, keyFor), /key "short" is 16 bytes; AES-256-GCM needs exactly 32/);
});

test('the streaming sealer and the file unsealer agree with the in-memory ones, also for large and empty content', async () => {
  for (const size of [0, 1, 3 * (1 << 20) + 17]) {
    const plaintext = randomBytes(size);
    const sealed = await buffer(Readable.from([plaintext.subarray(0, size >> 1), plaintext.subarray(size >> 1)]).pipe(await sealingStream(fields, keyFor)));
    assert.deepEqual((await unseal(sealed, keyFor)).plaintext, plaintext);
    const file = path.join(tmp, `out-${size}`);
    const { sizeBytes } = await unsealToFile(sealed, keyFor, file);
    assert.equal(sizeBytes, size);
    assert.deepEqual(readFileSync(file), plaintext);
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 16] = tampered[tampered.length - 16]! ^ 1; // the tag, which exists even for empty content
    await assert.rejects(unsealToFile(tampered, keyFor, file), /authentication failed/);
    assert.equal(statSync(file).size, 0, 'what was decrypted before the tag failed is not left in the file');
  }
});
