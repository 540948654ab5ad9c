import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';

/** Every long-running child this process started; killed if we exit without stopping them. */
const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM');
});

export interface ServerProcess {
  readonly pid: number;
  readonly logFile: string;
  /** Rejects if the process exits before `stop()`; lets a waiter notice a crash at start-up. */
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

/** Spawns a server with its output in a log file, and tracks it so only what we started gets stopped. */
export function spawnServer(command: string, args: string[], logFile: string, options: SpawnOptions = {}): ServerProcess {
  mkdirSync(path.dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  if (!child.pid) throw new Error(`could not start ${command}`);
  started.add(child);
  const pid = child.pid;
  let stopping = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => { started.delete(child); resolve(code); });
  });
  return {
    pid,
    logFile,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (stopping || child.exitCode !== null || child.signalCode !== null) { await exited; return; }
      stopping = true;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
      log.end();
    },
  };
}

/** The last lines of a log, to put in an error message when a server would not start. */
export function tailOf(file: string, lines = 8): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits ms, or less when the signal aborts first (it resolves then: the caller checks the signal). */
export const sleepUnlessAborted = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve) => {
  const done = () => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', done);
    resolve();
  };
  const timer = setTimeout(done, ms);
  signal?.addEventListener('abort', done, { once: true });
});
