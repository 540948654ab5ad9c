import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { createVersionedDirectoryObjectStore } from '../../activities/adapters/local/versioned-directory-object-store';
import { createDirectoryObjectStore } from '../../activities/adapters/local/directory-object-store';

const root = mkdtempSync(path.join(os.tmpdir(), 'dr-versioned-'));
after(() => rmSync(root, { recursive: true, force: true }));

function clock(start: string) {
  let now = Date.parse(start);
  return { now: () => new Date(now), advance: (ms: number) => { now += ms; } };
}

test('every put keeps a version; get returns the newest; versions list oldest first with their times', async () => {
  const time = clock('2026-11-23T10:00:00.000Z');
  const store = createVersionedDirectoryObjectStore(path.join(root, 'a'), { now: time.now });
  const v1 = await store.putVersion('backups/docs/archive', 'one');
  time.advance(60_000);
  const v2 = await store.putVersion('backups/docs/archive', 'two');
  time.advance(60_000);
  await store.put('backups/docs/archive', 'three');
  assert.equal((await store.get('backups/docs/archive'))?.toString(), 'three');
  assert.equal((await store.getVersion('backups/docs/archive', v1.versionId))?.toString(), 'one');
  assert.equal((await store.getVersion('backups/docs/archive', v2.versionId))?.toString(), 'two');
  const versions = await store.listVersions('backups/docs/archive');
  assert.deepEqual(versions.map((v) => [v.lastModified, v.sizeBytes, v.isLatest]), [
    ['2026-11-23T10:00:00.000Z', 3, false],
    ['2026-11-23T10:01:00.000Z', 3, false],
    ['2026-11-23T10:02:00.000Z', 5, true],
  ]);
  assert.equal(versions[0]!.versionId, v1.versionId);
  assert.equal(await store.getVersion('backups/docs/archive', 'no-such-version'), undefined);
  assert.deepEqual(await store.list('backups/'), ['backups/docs/archive'], 'the versions are not listed as objects');
});

test('the version current at a time: the newest written at or before it; nothing before the first', async () => {
  const time = clock('2026-11-23T10:00:00.000Z');
  const store = createVersionedDirectoryObjectStore(path.join(root, 'b'), { now: time.now });
  const v1 = await store.putVersion('k', 'one');
  time.advance(1000);
  const v2 = await store.putVersion('k', 'two');
  assert.equal((await store.versionAt('k', new Date('2026-11-23T09:59:59.999Z'))), undefined);
  assert.equal((await store.versionAt('k', new Date('2026-11-23T10:00:00.000Z')))?.versionId, v1.versionId);
  assert.equal((await store.versionAt('k', new Date('2026-11-23T10:00:00.999Z')))?.versionId, v1.versionId);
  assert.equal((await store.versionAt('k', new Date('2026-11-23T10:00:01.000Z')))?.versionId, v2.versionId);
  assert.equal((await store.versionAt('other', new Date())), undefined);
});

test('an object written by the plain directory store reads as the single version "null", as S3 lists pre-versioning objects', async () => {
  const dir = path.join(root, 'c');
  await createDirectoryObjectStore(dir).put('reports/r.md', '# r');
  const store = createVersionedDirectoryObjectStore(dir);
  const [only] = await store.listVersions('reports/r.md');
  assert.equal(only?.versionId, 'null');
  assert.equal((await store.getVersion('reports/r.md', 'null'))?.toString(), '# r');
  await store.putVersion('reports/r.md', '# r2');
  assert.equal((await store.get('reports/r.md'))?.toString(), '# r2');
  assert.equal((await createDirectoryObjectStore(dir).get('reports/r.md'))?.toString(), '# r2', 'the plain store still reads the current object');
});

test('keys that would collide with the version directories, or escape the root, are refused', async () => {
  const store = createVersionedDirectoryObjectStore(path.join(root, 'd'));
  await assert.rejects(store.putVersion('a.versions/x', 'x'), /versions/);
  await assert.rejects(store.putVersion('../x', 'x'), /not valid/);
  await assert.rejects(store.listVersions('a/b.versions'), /versions/);
});
