import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sleep } from './child-process';

/**
 * Servers we start record their pid in a file, so that the next start can stop what a killed run
 * (a test runner taken down by SIGKILL, a laptop lid) left behind. Only a process whose command line or
 * environment still contains `marker` (its state directory, say) is ours: a recycled pid is left alone.
 */
export function writePidFile(file: string, pid: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${pid}\n`);
}

export function removePidFile(file: string): void {
  rmSync(file, { force: true });
}

/** Stops every process named by a `*.pid` file in the directory that is still ours; returns the pids it stopped. */
export async function stopLeftoverProcesses(pidDir: string, marker: string, timeoutMs = 10_000): Promise<number[]> {
  if (!existsSync(pidDir)) return [];
  const pids = readdirSync(pidDir).filter((name) => name.endsWith('.pid')).flatMap((name) => {
    const file = path.join(pidDir, name);
    const pid = Number(readFileSync(file, 'utf8').trim());
    rmSync(file, { force: true });
    return Number.isInteger(pid) && pid > 0 && identity(pid).includes(marker) ? [pid] : [];
  });
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(100);
  for (const pid of pids.filter(isAlive)) signal(pid, 'SIGKILL');
  return pids;
}

/** Its command line and environment (a server that takes no path argument is marked by an environment variable). */
function identity(pid: number): string {
  const read = (file: string) => {
    try {
      return readFileSync(`/proc/${pid}/${file}`, 'utf8').replace(/\0/g, ' ');
    } catch {
      return '';
    }
  };
  return `${read('cmdline')} ${read('environ')}`;
}

/** A zombie (exited, not yet reaped by its parent) counts as gone. */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}
