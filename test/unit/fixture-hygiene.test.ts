import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const fixtures = path.resolve(__dirname, '..', 'fixtures');
/** A stack frame's path into a checkout, unless it is the neutral one record-history.ts writes. */
const checkoutPath = /\/(?!dr-runbooks\/)[^\s"():]+\/(?:node_modules|workflows|activities|contracts|test)\/[^\s"():]+\.[jt]s/;

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? jsonFiles(full) : name.endsWith('.json') ? [full] : [];
  });
}

test('recorded histories name no checkout of this machine (their stack traces are rewritten when recorded)', () => {
  const files = jsonFiles(fixtures);
  assert.ok(files.length > 10, `the recorded histories are there (${files.length})`);
  const named = files.filter((f) => checkoutPath.test(readFileSync(f, 'utf8')));
  assert.deepEqual(named.map((f) => path.relative(fixtures, f)), [], 'record them again with scripts/record-history.ts');
});
