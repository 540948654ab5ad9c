import { execFile } from 'node:child_process';

/**
 * Runs a benchmark tool to completion and returns its output; the activity's cancellation stops it.
 * Secrets go in `env` (never in argv, which any local user can read in /proc).
 */
export function runTool(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number; signal?: AbortSignal }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { ...process.env, ...options.env }, timeout: options.timeoutMs, signal: options.signal, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        reject(new Error(missing ? `${file} is not installed (run \`npm run bootstrap\`)` : `${file} failed: ${(stderr || stdout || error.message).trim().split('\n').slice(-3).join(' | ')}`));
        return;
      }
      resolve(stdout);
    });
  });
}
