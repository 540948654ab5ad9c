import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { sleep } from './child-process';

/**
 * A server we start records its pid beside its state; a run that dies without stopping it (SIGKILL,
 * a crashed test runner) leaves the server running on that state. The next start stops it first,
 * but only if the pid still names our server: a stale pid file can name anything by then.
 */

/** The arguments of a live process, or undefined when it is gone (or a zombie, whose cmdline is empty). */
export function commandLineOf(pid: number): string[] | undefined {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.length > 0 ? cmdline.replace(/\0$/, '').split('\0') : undefined;
  } catch {
    return undefined;
  }
}

export function recordPid(pidFile: string, pid: number): void {
  writeFileSync(pidFile, `${pid}\n`);
}

/** Removes the pid file if it still names this pid (a newer start may have replaced it). */
export function forgetPid(pidFile: string, pid: number): void {
  if (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() === String(pid)) rmSync(pidFile, { force: true });
}

/**
 * Stops the process the pid file names if one of its arguments is exactly `marker` (e.g. the flag
 * naming its config file, unique to its state directory); SIGTERM, then SIGKILL after `timeoutMs`.
 * Returns the pid it stopped, or undefined when there was nothing of ours to stop.
 */
export async function stopLeftoverProcess(pidFile: string, marker: string, timeoutMs = 10_000): Promise<number | undefined> {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const ours = (): boolean => Number.isInteger(pid) && pid > 0 && (commandLineOf(pid)?.includes(marker) ?? false);
  if (!ours()) {
    rmSync(pidFile, { force: true });
    return undefined;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (ours() && Date.now() < deadline) await sleep(100);
  if (ours()) {
    process.kill(pid, 'SIGKILL');
    const killDeadline = Date.now() + 5_000;
    while (ours() && Date.now() < killDeadline) await sleep(100);
  }
  rmSync(pidFile, { force: true });
  return pid;
}
