import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { isAtomicWriteTemp, writeFileAtomic } from '../../lib/atomic-file';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-atomic-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('replaces a file with the new content and the given mode, leaving no temporary file', () => {
  const file = path.join(dir, 'a', 'config.json');
  writeFileAtomic(file, 'old\n');
  writeFileAtomic(file, Buffer.from('new\n'), 0o644);
  assert.equal(readFileSync(file, 'utf8'), 'new\n');
  assert.equal(statSync(file).mode & 0o777, 0o644);
  assert.deepEqual(readdirSync(path.dirname(file)), ['config.json']);
});

test('a write that cannot be renamed into place leaves the old entry as it was and no temporary file', () => {
  const target = path.join(dir, 'b', 'taken');
  mkdirSync(path.join(target, 'inside'), { recursive: true }); // a non-empty directory: rename over it fails
  assert.throws(() => writeFileAtomic(target, 'content'));
  assert.ok(statSync(target).isDirectory());
  assert.deepEqual(readdirSync(path.dirname(target)), ['taken']);
});

test('its temporary files are recognisable, so directory readers can skip an interrupted write', () => {
  assert.ok(isAtomicWriteTemp('.report.md.tmp-4711-0a1b2c3d'));
  assert.ok(!isAtomicWriteTemp('report.md'));
  assert.ok(!isAtomicWriteTemp('.hidden'));
});
