import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { PrerequisiteError } from '../../lib/prerequisite-error';
import { startPostgresCluster } from '../../activities/adapters/local/postgres/cluster';

// A broken machine must end in one clear line that says what is wrong and how to fix it.
const root = path.resolve(__dirname, '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dr-prereq-'));
chmodSync(tmp, 0o755);
after(() => rmSync(tmp, { recursive: true, force: true }));

function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

function assertNoStackTrace(output: string): void {
  assert.doesNotMatch(output, /^\s+at .+:\d+:\d+\)?$/m, 'printed a stack trace');
}

function runDemo(env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--once'], {
    cwd: root,
    env: { ...process.env, DR_STATE_DIR: mkdtempSync(path.join(tmp, 'state-')), ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

test('a taken Temporal port ends the demo with one line naming the port and the fix', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const result = runDemo({ DR_TEMPORAL_PORT: String(port), DR_TEMPORAL_UI_PORT: '0' });
    assert.equal(result.status, 2, result.stderr);
    assert.match(lastLine(result.stderr), new RegExp(`^error: port ${port} on 127\\.0\\.0\\.1, wanted for the Temporal server, is already in use\\. Fix: .*DR_TEMPORAL_PORT`));
    assertNoStackTrace(result.stderr + result.stdout);
  } finally {
    blocker.close();
  }
});

test('a missing Temporal CLI ends the demo with one line pointing at the bootstrap', () => {
  const result = runDemo({ DR_TEMPORAL_BIN: path.join(tmp, 'no-such-temporal') });
  assert.equal(result.status, 2, result.stderr);
  assert.match(lastLine(result.stderr), /^error: the Temporal CLI is not at .*no-such-temporal\. Fix: run `npm run bootstrap`/);
  assertNoStackTrace(result.stderr);
});

test('no Go on the machine ends the bootstrap with one line saying what to install', () => {
  // An empty cache forces a build; DR_GO_BIN pointing nowhere stands for a machine without Go. The test
  // leaves node_modules alone: a test must never reinstall the packages it runs on.
  const result = spawnSync('bash', ['scripts/bootstrap.sh'], {
    cwd: root,
    env: { ...process.env, DR_BOOTSTRAP_SKIP_NPM: '1', DR_GO_BIN: path.join(tmp, 'no-go', 'go'), DR_CACHE_DIR: mkdtempSync(path.join(tmp, 'cache-')) },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(result.status, 1, result.stdout + result.stderr);
  assert.match(result.stderr, /^bootstrap: error: go is not installed; it is needed once to build the Temporal CLI\. Fix: install Go >= 1\.25/m);
  assertNoStackTrace(result.stderr);
});

test('PostgreSQL refusing to start is reported with the end of its log and a fix', async () => {
  const error = await startPostgresCluster({ dir: path.join(tmp, 'broken'), settings: { shared_buffers: "'lots'" } }).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof PrerequisiteError, String(error));
  assert.match(error.what, /^PostgreSQL refused to start on 127\.0\.0\.1:\d+/);
  assert.match(error.details ?? '', /shared_buffers/);
  assert.match(error.fix, /bad setting/);
});
