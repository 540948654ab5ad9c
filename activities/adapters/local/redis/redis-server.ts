import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../../../../lib/atomic-file';
import { sleep, tailOf } from '../../../../lib/child-process';
import { freePort } from '../../../../lib/ports';
import { PrerequisiteError } from '../../../../lib/prerequisite-error';
import { redisInfo, withRedis } from './redis-client';

const execFileAsync = promisify(execFile);

/**
 * One redis-server 7 process per directory: <dir>/redis.conf (0600: it holds requirepass),
 * <dir>/password, <dir>/data (dump.rdb, appendonlydir/), <dir>/redis.log, <dir>/redis.pid.
 * Servers daemonize, so they outlive the worker that started them, as the PostgreSQL clusters do.
 */

export const redisServerBinary = () => process.env.DR_REDIS_SERVER ?? 'redis-server';

export interface RedisServerSettings {
  port: number;
  password: string;
  /** appendonly yes, appendfsync everysec, the AOF directory "appendonlydir". */
  appendonly: boolean;
  /** RDB save points; "" turns snapshots off (scratch instances). Default Redis's own. */
  save?: string;
}

export const dataDirOf = (dir: string) => path.join(dir, 'data');
const pidFileOf = (dir: string) => path.join(dir, 'redis.pid');
export const logFileOf = (dir: string) => path.join(dir, 'redis.log');
export const passwordFileOf = (dir: string) => path.join(dir, 'password');

function configText(dir: string, settings: RedisServerSettings): string {
  if (!/^[\w.~+/=-]+$/.test(settings.password)) throw new Error('the generated Redis password must be plain characters');
  return [
    '# Written by dr-runbooks; rewritten on every start.',
    'bind 127.0.0.1',
    'protected-mode yes',
    `port ${settings.port}`,
    'daemonize yes',
    `pidfile ${pidFileOf(dir)}`,
    `logfile ${logFileOf(dir)}`,
    `dir ${dataDirOf(dir)}`,
    'dbfilename dump.rdb',
    `appendonly ${settings.appendonly ? 'yes' : 'no'}`,
    'appenddirname appendonlydir',
    'appendfsync everysec',
    `save "${settings.save ?? '3600 1 300 100 60 10000'}"`,
    `requirepass ${settings.password}`,
    '',
  ].join('\n');
}

/** The pid the pid file names; undefined while it is missing or still being written. */
function pidInFile(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFileOf(dir), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a pid is a live redis-server. /proc/<pid>/comm, not cmdline (Redis rewrites its argv to
 * show its address), and not a zombie (a killed daemon nobody has reaped yet still answers kill 0).
 */
function isLiveRedis(pid: number): boolean {
  try {
    if (!readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('redis-server')) return false;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

/** The pid of the redis-server running on this directory's config, if one is. */
export function runningRedisPid(dir: string): number | undefined {
  const pid = pidInFile(dir);
  return pid !== undefined && isLiveRedis(pid) ? pid : undefined;
}

/**
 * Stops the server on this directory. 'graceful' is SIGTERM (Redis saves per its config and exits);
 * 'kill' is SIGKILL, for what is about to be removed anyway.
 */
export async function stopRedisServer(dir: string, how: 'graceful' | 'kill', timeoutMs = 30_000): Promise<void> {
  const pid = runningRedisPid(dir);
  if (!pid) return;
  process.kill(pid, how === 'kill' ? 'SIGKILL' : 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  let killed = how === 'kill';
  while (runningRedisPid(dir) === pid) {
    if (!killed && Date.now() > deadline) { process.kill(pid, 'SIGKILL'); killed = true; }
    await sleep(50);
  }
  rmSync(pidFileOf(dir), { force: true });
}

/** Fails with the bootstrap's fix when redis-server is missing or is not Redis 7. */
async function assertRedis7(): Promise<void> {
  let version: string;
  try {
    version = (await execFileAsync(redisServerBinary(), ['--version'])).stdout;
  } catch {
    throw new PrerequisiteError(`redis-server is not installed (looked for "${redisServerBinary()}")`, 'run `npm run bootstrap` (it installs Debian\'s redis-server), or set DR_REDIS_SERVER to a Redis 7 redis-server');
  }
  const major = /v=(\d+)\./.exec(version)?.[1];
  if (major !== '7') throw new PrerequisiteError(`redis-server is not Redis 7 (${version.trim()})`, 'install Redis 7 (Debian 12: apt-get install redis-server), or set DR_REDIS_SERVER to one');
}

/**
 * Starts redis-server on a directory (its data/ already holding dump.rdb or appendonlydir/ when it
 * restores one) on a free loopback port, and waits until it has loaded its data and answers.
 */
export async function startRedisServer(input: { dir: string; password: string; appendonly: boolean; save?: string; port?: number; timeoutMs?: number; signal?: AbortSignal; onLoading?: (message: string) => void }): Promise<{ port: number; pid: number }> {
  await assertRedis7();
  const dir = path.resolve(input.dir);
  // A server an earlier run left on this very directory is ours: stop it rather than fight it.
  await stopRedisServer(dir, 'kill');
  mkdirSync(dataDirOf(dir), { recursive: true, mode: 0o700 });
  const port = input.port ?? (await freePort());
  const configFile = path.join(dir, 'redis.conf');
  writeFileAtomic(configFile, configText(dir, { port, password: input.password, appendonly: input.appendonly, save: input.save }), 0o600);
  try {
    await execFileAsync(redisServerBinary(), [configFile], { timeout: 30_000 });
  } catch (error) {
    throw new Error(`redis-server would not start on 127.0.0.1:${port}: ${(error as Error).message.split('\n')[0]}; its log ends with:\n${tailOf(logFileOf(dir))}`);
  }
  const deadline = Date.now() + (input.timeoutMs ?? 5 * 60_000);
  for (;;) {
    input.signal?.throwIfAborted();
    const written = pidInFile(dir);
    const pid = written !== undefined && isLiveRedis(written) ? written : undefined;
    if (written !== undefined && !pid) {
      throw new Error(`redis-server on 127.0.0.1:${port} stopped while loading its data; its log ends with:\n${tailOf(logFileOf(dir))}`);
    }
    if (pid) {
      const loading = await withRedis({ host: '127.0.0.1', port, password: input.password }, async (r) => (await redisInfo(r, 'persistence')).loading).catch(() => undefined);
      if (loading === '0') return { port, pid };
      if (loading === '1') input.onLoading?.('loading the dataset');
    }
    if (Date.now() > deadline) {
      await stopRedisServer(dir, 'kill');
      throw new Error(`redis-server on 127.0.0.1:${port} did not finish loading within ${(input.timeoutMs ?? 300_000) / 1000} s; its log ends with:\n${tailOf(logFileOf(dir))}`);
    }
    await sleep(100);
  }
}
