import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { clusterOsUser } from './cluster';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

export interface RunningCommand {
  /** The process group id: recorded so a restarted worker can stop a command a dead worker left running. */
  pgid: number;
  done: Promise<CommandResult>;
}

export class CommandFailedError extends Error {
  override readonly name = 'CommandFailedError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
  }
}

export class CommandAbortedError extends Error {
  override readonly name = 'CommandAbortedError';
}

/**
 * Runs a binary as the unprivileged cluster user (through runuser when we are root) in its own process
 * group, so that aborting kills it and everything it forked (pgBackRest's parallel workers).
 */
export function spawnAsClusterUser(command: string, args: string[], options: { signal?: AbortSignal; onLine?: (line: string) => void } = {}): RunningCommand {
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = asRoot ? ['runuser', ['-u', clusterOsUser(), '--', command, ...args]] : [command, args];
  const child = spawn(cmd, argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pgid = child.pid!;
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (!options.onLine) return;
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) options.onLine(line);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const abort = () => killProcessGroup(pgid);
  options.signal?.addEventListener('abort', abort, { once: true });
  const done = new Promise<CommandResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      options.signal?.removeEventListener('abort', abort);
      if (options.signal?.aborted) reject(new CommandAbortedError(`${command} ${args[0] ?? ''} was stopped (cancelled)`));
      else if (code === 0) resolve({ stdout, stderr });
      else reject(new CommandFailedError(`${command} ${args.filter((a) => !a.startsWith('--config')).join(' ')} failed (exit ${code}): ${lastLines(stderr || stdout)}`, code, stderr));
    });
  });
  if (options.signal?.aborted) abort();
  return { pgid, done };
}

export function runAsClusterUserCancellable(command: string, args: string[], options: { signal?: AbortSignal; onLine?: (line: string) => void } = {}): Promise<CommandResult> {
  return spawnAsClusterUser(command, args, options).done;
}

function lastLines(text: string, lines = 6): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Kills a process group we started, if it still exists. */
export function killProcessGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * True when the process group a dead worker recorded still runs a command mentioning `marker`
 * (the instance's directory): a pid can be reused, so never kill on the pid alone.
 */
export function processGroupRuns(pgid: number, marker: string): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pgid}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes(marker));
  } catch {
    // The group leader (runuser) may be gone while its children live on: trust the group id then.
    return true;
  }
}
