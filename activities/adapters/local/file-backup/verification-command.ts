import { spawn } from 'node:child_process';

export interface VerificationCommand {
  /** argv, no shell: e.g. ["python3", "-m", "compileall", "-q", "."] or ["nginx", "-t", "-c", "nginx.conf"]. */
  argv: string[];
  /** Default 5 minutes. */
  timeoutMs?: number;
}

export interface VerificationRun {
  argv: string[];
  exitCode: number;
  durationMs: number;
  outputTail: string;
}

export class VerificationCommandError extends Error {
  override readonly name = 'VerificationCommandError';
  constructor(
    message: string,
    readonly run: Omit<VerificationRun, 'exitCode'> & { exitCode: number | null },
  ) {
    super(message);
  }
}

const tail = (text: string, chars = 2000) => (text.length > chars ? `…${text.slice(-chars)}` : text).trimEnd();

/**
 * Runs an archive kind's check in the staged copy (cwd), in its own process group so a timeout or a
 * cancellation stops it and whatever it started. Resolves on exit 0; anything else is an error with
 * the end of its output.
 */
export function runVerificationCommand(command: VerificationCommand, cwd: string, signal?: AbortSignal): Promise<VerificationRun> {
  const [file, ...args] = command.argv;
  if (!file) return Promise.reject(new Error('verification command argv is empty'));
  const timeoutMs = command.timeoutMs ?? 5 * 60_000;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => { output = tail(output + chunk.toString('utf8'), 8000); };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let why: string | undefined;
    const kill = (reason: string) => {
      why ??= reason;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    };
    const timer = setTimeout(() => kill(`timed out after ${timeoutMs / 1000} s`), timeoutMs);
    const onAbort = () => kill('cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(new VerificationCommandError(`verification command ${JSON.stringify(command.argv)} could not start: ${error.message}`, { argv: command.argv, exitCode: null, durationMs: Date.now() - started, outputTail: '' }));
    });
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      const run = { argv: command.argv, exitCode: code, durationMs: Date.now() - started, outputTail: tail(output) };
      if (code === 0 && !why) resolve({ ...run, exitCode: 0 });
      else reject(new VerificationCommandError(`verification command ${JSON.stringify(command.argv)} ${why ?? (code === null ? `was killed by ${sig}` : `failed (exit ${code})`)}${run.outputTail ? `; its output ends with:\n${run.outputTail}` : ''}`, run));
    });
  });
}
