import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { commandLineOf, recordPid, stopLeftoverProcess } from '../../lib/leftover-process';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dr-leftover-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// A process that runs until stopped and carries the marker among its arguments. Not `sleep 30 --flag`:
// GNU sleep refuses the unknown option and exits at once (and so would node without `--`), so the test would race its exit.
// Its /proc cmdline names the marker only once the exec has happened: wait for that before using it.
async function longRunning(marker: string) {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)', '--', marker], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !commandLineOf(child.pid!)?.includes(marker); i++) await new Promise((r) => setTimeout(r, 20));
  return child;
}

test('a pid file naming a process with the exact marker argument gets that process stopped', async () => {
  const marker = `--config.file=${path.join(tmp, 'a.yml')}`;
  const child = await longRunning(marker);
  const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  const pidFile = path.join(tmp, 'a.pid');
  recordPid(pidFile, child.pid!);
  assert.equal(await stopLeftoverProcess(pidFile, marker), child.pid);
  assert.equal(await exited, 'SIGTERM');
  assert.equal(existsSync(pidFile), false);
});

test('a pid file naming anything else (another state directory, a reused pid) leaves the process alone', async () => {
  const other = await longRunning(`--config.file=${path.join(tmp, 'b.yml.old')}`);
  try {
    const pidFile = path.join(tmp, 'b.pid');
    recordPid(pidFile, other.pid!);
    // An argument that merely starts with the marker is not a match.
    assert.equal(await stopLeftoverProcess(pidFile, `--config.file=${path.join(tmp, 'b.yml')}`), undefined);
    assert.ok(commandLineOf(other.pid!), 'still running');
    assert.equal(existsSync(pidFile), false, 'the stale pid file is removed');
    recordPid(pidFile, process.pid);
    assert.equal(await stopLeftoverProcess(pidFile, '--config.file=/nowhere'), undefined);
  } finally {
    other.kill();
  }
});
