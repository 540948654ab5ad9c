import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ObjectStore } from '../../activities/ports/object-store';
import type { VersionedObjectStore } from '../../activities/ports/versioned-object-store';

// The ObjectStore port's contract: every adapter (a directory, S3, …) passes the same cases. `label`
// says what answers them ("S3 on moto"); `fresh` gives an empty store for each case.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function objectStoreContract(label: string, fresh: () => Promise<ObjectStore>): void {
  test(`${label}: a key never written reads as undefined`, async () => {
    const store = await fresh();
    assert.equal(await store.get('reports/none.json'), undefined);
  });

  test(`${label}: what is put is read back byte for byte (text and binary), a second put replaces it`, async () => {
    const store = await fresh();
    await store.put('reports/INC-1.md', '# Report\n\nRTO 12 min ✓\n', 'text/markdown; charset=utf-8');
    assert.equal((await store.get('reports/INC-1.md'))?.toString('utf8'), '# Report\n\nRTO 12 min ✓\n');
    const binary = Buffer.from([0, 255, 1, 254, 10, 13, 0]);
    await store.put('backups/b1/dump.bin', binary, 'application/octet-stream');
    assert.deepEqual(await store.get('backups/b1/dump.bin'), binary);
    await store.put('reports/INC-1.md', 'second');
    assert.equal((await store.get('reports/INC-1.md'))?.toString('utf8'), 'second');
  });

  test(`${label}: list gives the keys under a prefix, nested ones included, sorted, nothing else`, async () => {
    const store = await fresh();
    for (const key of ['reports/b.json', 'reports/a.json', 'reports/2026/c.json', 'baselines/x.json', 'reportsx/y.json']) await store.put(key, key);
    assert.deepEqual(await store.list('reports/'), ['reports/2026/c.json', 'reports/a.json', 'reports/b.json']);
    assert.deepEqual(await store.list('nothing/'), []);
    assert.deepEqual(await store.list(''), ['baselines/x.json', 'reports/2026/c.json', 'reports/a.json', 'reports/b.json', 'reportsx/y.json']);
  });

  test(`${label}: a key that is empty, absolute, or has an empty, '.' or '..' part is refused, naming the key`, async () => {
    const store = await fresh();
    for (const key of ['', '/etc/passwd', 'a/../b', 'a//b', './a', 'a\\b']) {
      await assert.rejects(store.put(key, 'x'), /object key .* is not valid/, `put ${JSON.stringify(key)}`);
      await assert.rejects(store.get(key), /object key .* is not valid/, `get ${JSON.stringify(key)}`);
    }
  });
}

export function versionedObjectStoreContract(label: string, fresh: () => Promise<VersionedObjectStore>): void {
  test(`${label}: every put is a version; each reads back by its id, the key reads as the newest`, async () => {
    const store = await fresh();
    const first = await store.putVersion('files/docs.tar.gz', 'one');
    const second = await store.putVersion('files/docs.tar.gz', 'two, longer');
    assert.notEqual(first.versionId, second.versionId);
    assert.equal((await store.getVersion('files/docs.tar.gz', first.versionId))?.toString(), 'one');
    assert.equal((await store.getVersion('files/docs.tar.gz', second.versionId))?.toString(), 'two, longer');
    assert.equal((await store.get('files/docs.tar.gz'))?.toString(), 'two, longer');
    const versions = await store.listVersions('files/docs.tar.gz');
    assert.deepEqual(versions.map((v) => [v.versionId, v.sizeBytes, v.isLatest, v.deleteMarker]), [[first.versionId, 3, false, false], [second.versionId, 11, true, false]]);
    assert.ok(versions.every((v) => !Number.isNaN(Date.parse(v.lastModified))));
  });

  test(`${label}: a version id the key does not have reads as undefined; a key without versions lists none`, async () => {
    const store = await fresh();
    await store.putVersion('files/a', 'a');
    assert.equal(await store.getVersion('files/a', 'no-such-version'), undefined);
    assert.deepEqual(await store.listVersions('files/never'), []);
    assert.deepEqual((await store.listVersions('files/a')).map((v) => v.key), ['files/a'], 'only the key itself, not keys it is a prefix of');
  });

  test(`${label}: versionAt gives the version current at a time (none before the first write)`, async () => {
    const store = await fresh();
    const before = new Date(Date.now() - 5000);
    const first = await store.putVersion('files/config.tar.gz', 'v1');
    await sleep(1100); // S3 keeps LastModified to the second
    const between = new Date();
    await sleep(1100);
    const second = await store.putVersion('files/config.tar.gz', 'v2');
    assert.equal(await store.versionAt('files/config.tar.gz', before), undefined);
    assert.equal((await store.versionAt('files/config.tar.gz', between))?.versionId, first.versionId);
    assert.equal((await store.versionAt('files/config.tar.gz', new Date(Date.now() + 1000)))?.versionId, second.versionId);
  });
}
