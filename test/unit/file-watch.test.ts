import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { watchFile } from '../../lib/file-watch';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-file-watch-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const settledWithin = (p: Promise<void>, ms: number) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

test('a write to the file wakes a waiter; with no write it stays asleep', async () => {
  const file = path.join(dir, 'server.log');
  writeFileSync(file, 'LOG:  starting\n');
  const watch = watchFile(file);
  try {
    assert.equal(await settledWithin(watch.changed(), 200), false, 'nothing written yet');
    const woken = watch.changed();
    appendFileSync(file, 'LOG:  pausing at the end of recovery\n');
    assert.equal(await settledWithin(woken, 5000), true, 'the line written woke it');
    const again = watch.changed();
    assert.equal(await settledWithin(again, 200), false, 'a later wait waits for a later write');
    appendFileSync(file, 'LOG:  database system is ready to accept connections\n');
    assert.equal(await settledWithin(again, 5000), true);
  } finally {
    watch.close();
  }
});

test('a file that cannot be watched never wakes the waiter (it falls back to its own timeout), and close releases one', async () => {
  const missing = watchFile(path.join(dir, 'no-such.log'));
  assert.equal(await settledWithin(missing.changed(), 100), false);
  missing.close();
  const file = path.join(dir, 'closed.log');
  writeFileSync(file, '');
  const watch = watchFile(file);
  const waiting = watch.changed();
  watch.close();
  assert.equal(await settledWithin(waiting, 1000), true, 'closing lets a waiter go');
});
