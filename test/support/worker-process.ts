import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { repoRoot } from '../../stack/paths';

/**
 * The real worker process (`npm run worker`: worker/main.ts), as it is deployed: its own Runtime (the
 * SDK's telemetry is process-wide, so a worker that serves metrics cannot share a test's process), its
 * config file, its task queue. Resolves once it polls; `stop` sends SIGTERM and waits for the exit.
 */
export interface WorkerProcess {
  process: ChildProcess;
  /** What it printed so far (stdout and stderr). */
  output(): string;
  /** The /metrics URL it announced, when it serves metrics. */
  metricsUrl?: string;
  stop(): Promise<void>;
}

/** Writes a copy of the stack's worker config beside it with `changes` merged in at the top level; returns the file. */
export function writeConfigVariant(configFile: string, name: string, changes: Record<string, unknown>): string {
  const config = { ...(YAML.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>), ...changes };
  const file = path.join(path.dirname(configFile), `${name}.yaml`);
  writeFileSync(file, YAML.stringify(config));
  return file;
}

export async function startWorkerProcess(options: { configFile: string; temporalAddress: string; taskQueue: string; env?: Record<string, string>; timeoutMs?: number }): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'worker', 'main.ts')], {
    cwd: repoRoot,
    env: { ...process.env, DR_CONFIG: options.configFile, TEMPORAL_ADDRESS: options.temporalAddress, DR_TASK_QUEUE: options.taskQueue, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker did not start within ${(options.timeoutMs ?? 60_000) / 1000} s:\n${output}`)), options.timeoutMs ?? 60_000);
    const check = () => {
      const line = output.split('\n').find((l) => l.startsWith('worker: polling'));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited (${code}) before it polled:\n${output}`));
    });
  });
  const metricsUrl = /metrics at (\S+)/.exec(ready)?.[1];
  return {
    process: child,
    output: () => output,
    ...(metricsUrl ? { metricsUrl } : {}),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(forced);
    },
  };
}
