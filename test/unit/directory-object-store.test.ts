import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { createDirectoryObjectStore } from '../../activities/adapters/local/directory-object-store';

const root = mkdtempSync(path.join(os.tmpdir(), 'dr-objects-'));
const outside = mkdtempSync(path.join(os.tmpdir(), 'dr-objects-outside-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

test('put, get, overwrite and list by prefix, sorted', async () => {
  const store = createDirectoryObjectStore(path.join(root, 'store'));
  await store.put('reports/INC-2/report.md', '# one');
  await store.put('reports/INC-1/report.md', Buffer.from('# two'));
  await store.put('baselines/production.json', '{}', 'application/json');
  await store.put('reports/INC-2/report.md', '# one, revised');
  assert.equal((await store.get('reports/INC-2/report.md'))?.toString(), '# one, revised');
  assert.equal(await store.get('reports/INC-9/report.md'), undefined);
  assert.equal(await store.get('reports'), undefined, 'a "directory" is not an object');
  assert.deepEqual(await store.list('reports/'), ['reports/INC-1/report.md', 'reports/INC-2/report.md']);
  assert.deepEqual(await store.list(''), ['baselines/production.json', 'reports/INC-1/report.md', 'reports/INC-2/report.md']);
  assert.deepEqual(await store.list('nothing/'), []);
  assert.deepEqual(readdirSync(path.join(root, 'store', 'reports', 'INC-2')), ['report.md'], 'no temp file left behind');
});

test('keys that escape the root, or are not clean paths, are refused and nothing is written', async () => {
  const store = createDirectoryObjectStore(path.join(root, 'guarded'));
  const escape = path.relative(path.join(root, 'guarded'), path.join(outside, 'pwned'));
  for (const key of ['../x', 'a/../../x', escape, '/etc/passwd', '', 'a//b', './a', 'a\\..\\b', 'a/.']) {
    await assert.rejects(store.put(key, 'x'), /object key .* is not valid|escapes/, `put ${JSON.stringify(key)}`);
    await assert.rejects(store.get(key), /object key/, `get ${JSON.stringify(key)}`);
  }
  assert.deepEqual(readdirSync(outside), []);
});

test('an unfinished write (a temp file) is invisible to list', async () => {
  const store = createDirectoryObjectStore(path.join(root, 'partial'));
  await store.put('a/b.txt', 'done');
  writeFileSync(path.join(root, 'partial', 'a', '.c.txt.abc.tmp'), 'half');
  assert.deepEqual(await store.list('a/'), ['a/b.txt']);
});
