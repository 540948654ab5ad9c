import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { postgresBinDir } from './binaries';
import { assertPortFree, freePort } from '../../../../lib/ports';
import { PrerequisiteError } from '../../../../lib/prerequisite-error';
import { writeFileAtomic } from '../../../../lib/atomic-file';

const execFileAsync = promisify(execFile);

/** postgres refuses to run as root; the bootstrap creates this unprivileged user for our clusters. */
export const clusterOsUser = () => process.env.DR_PG_OS_USER ?? 'drpostgres';
export const superuser = 'postgres';

export interface PostgresClusterOptions {
  /** The cluster's own directory: data/, the log, the superuser password file. */
  dir: string;
  /** Loopback port; a free one when omitted. */
  port?: number;
  /** Extra postgresql.conf lines (e.g. archive_command for pgBackRest). */
  settings?: Record<string, string | number>;
  startTimeoutSeconds?: number;
}

export interface PostgresCluster {
  dir: string;
  dataDir: string;
  port: number;
  /** The postmaster's pid, read from postmaster.pid after start. */
  pid: number;
  /** The superuser's password (from the cluster's password file): for config and secret files only. */
  password: string;
  /** Connection URL with the superuser password: hand it to config, never to workflow inputs. */
  url(database?: string): string;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
}

interface OsUser { name: string; uid: number; gid: number }

/** When we are root, commands run as the unprivileged cluster user through runuser. */
async function osUser(): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const name = clusterOsUser();
  try {
    const uid = Number((await execFileAsync('id', ['-u', name])).stdout.trim());
    const gid = Number((await execFileAsync('id', ['-g', name])).stdout.trim());
    return { name, uid, gid };
  } catch {
    throw new PrerequisiteError(`running as root and the unprivileged user ${name} does not exist (postgres refuses to run as root)`, `run \`npm run bootstrap\` to create it, or set DR_PG_OS_USER to an existing unprivileged user`);
  }
}

/** Runs a PostgreSQL (or pgBackRest) binary as the cluster's user. */
export async function runAsClusterUser(command: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
  const user = await osUser();
  const [cmd, argv] = user ? ['runuser', ['-u', user.name, '--', command, ...args]] : [command, args];
  return execFileAsync(cmd, argv, { timeout: options.timeoutMs ?? 120_000, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024 });
}

/** Gives a file or directory to the cluster user, so postgres can write in it. */
export async function giveToClusterUser(file: string): Promise<void> {
  const user = await osUser();
  if (user) chownSync(file, user.uid, user.gid);
}

/** Creates a directory (with its parents) owned by the cluster user. */
export async function ownedByClusterUser(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await giveToClusterUser(dir);
}

/** postgres must be able to reach its data directory through every parent directory. */
async function assertClusterUserCanEnter(dir: string): Promise<void> {
  const user = await osUser();
  if (!user) return;
  try {
    await execFileAsync('runuser', ['-u', user.name, '--', 'test', '-x', dir]);
  } catch {
    throw new PrerequisiteError(`the cluster user ${user.name} cannot reach ${dir} (a parent directory is not searchable by others)`, `chmod o+x on each parent of ${dir}, or keep the state directory somewhere like /tmp or /var/tmp`);
  }
}

/** Whether a process of that pid exists (EPERM: it does, owned by another user). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(dataDir: string): number {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  return Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
}

function pgLogTail(logFile: string): string {
  return existsSync(logFile) ? readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-6).join('\n') : '(no log)';
}

/**
 * Creates (initdb, once) and starts a PostgreSQL 15 cluster on a loopback port, and waits until it
 * accepts connections. Unix sockets are off: everything goes through 127.0.0.1 with a password.
 */
export async function startPostgresCluster(options: PostgresClusterOptions): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  const dir = path.resolve(options.dir);
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  const passwordFile = path.join(dir, 'superuser.password');
  // A server left running on this very data directory by an earlier run that died (Ctrl-\, SIGKILL)
  // is ours: stop it, rather than fail on its port or its lock file.
  await stopClusterIfRunning(dataDir);
  const port = options.port ?? (await freePort());
  if (options.port) await assertPortFree(port, `PostgreSQL cluster ${path.basename(dir)}`, 'DR_PG_PORT');

  await ownedByClusterUser(dir);
  await assertClusterUserCanEnter(dir);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const password = randomBytes(18).toString('base64url');
    writeFileSync(passwordFile, password + '\n', { mode: 0o600 });
    // initdb reads the password from a file the cluster user can read; it is removed right after.
    const initPw = path.join(dir, '.initdb-password');
    writeFileSync(initPw, password + '\n', { mode: 0o600 });
    await giveToClusterUser(initPw);
    try {
      await runAsClusterUser(path.join(bin, 'initdb'), ['-D', dataDir, '-U', superuser, '--pwfile', initPw, '--auth-host=scram-sha-256', '--auth-local=peer', '--encoding=UTF8', '--locale=C.UTF-8', '--data-checksums']);
    } catch (error) {
      throw new PrerequisiteError(`initdb of ${dataDir} failed: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`, 'check that the directory is writable by the cluster user and the disk has room');
    } finally {
      rmSync(initPw, { force: true });
    }
  }
  const conf: Record<string, string | number> = {
    listen_addresses: "'127.0.0.1'",
    port,
    unix_socket_directories: "''",
    logging_collector: 'off',
    ...options.settings,
  };
  writeFileAtomic(path.join(dataDir, 'postgresql.auto.conf'), Object.entries(conf).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n', 0o644);
  await giveToClusterUser(path.join(dataDir, 'postgresql.auto.conf'));

  try {
    await runAsClusterUser(path.join(bin, 'pg_ctl'), ['start', '-D', dataDir, '-l', logFile, '-w', '-t', String(options.startTimeoutSeconds ?? 60)], { timeoutMs: ((options.startTimeoutSeconds ?? 60) + 10) * 1000 });
  } catch {
    throw new PrerequisiteError(`PostgreSQL refused to start on 127.0.0.1:${port} (data ${dataDir}, log ${logFile})`, 'read the log lines above: a bad setting, a port taken by another server, a full disk or a server from an earlier run still holding the data directory are the usual causes', pgLogTail(logFile));
  }
  return clusterHandle(dir, port);
}

/** A handle on a cluster that is already running (e.g. one a restore just started). */
export function clusterHandle(dir: string, port: number): PostgresCluster {
  const dataDir = path.join(dir, 'data');
  const password = readFileSync(path.join(dir, 'superuser.password'), 'utf8').trim();
  const pid = readPid(dataDir);
  return {
    dir,
    dataDir,
    port,
    pid,
    password,
    url: (database = 'postgres') => `postgresql://${superuser}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    async stop(mode = 'fast') {
      // Only the postmaster we started: if postmaster.pid names another process, leave it alone.
      if (!existsSync(path.join(dataDir, 'postmaster.pid')) || readPid(dataDir) !== pid) return;
      // A postmaster that was killed (a drill's crash of production) leaves its pid file: nothing to stop.
      if (!processExists(pid)) return;
      await runAsClusterUser(path.join(postgresBinDir(), 'pg_ctl'), ['stop', '-D', dataDir, '-m', mode, '-w', '-t', '60']);
    },
  };
}

/** Stops a server still running on a data directory (left by a run that was killed), if any. */
export async function stopClusterIfRunning(dataDir: string): Promise<boolean> {
  if (!existsSync(path.join(dataDir, 'postmaster.pid'))) return false;
  const pgCtl = path.join(postgresBinDir(), 'pg_ctl');
  const running = await runAsClusterUser(pgCtl, ['status', '-D', dataDir]).then(() => true, () => false);
  if (running) await runAsClusterUser(pgCtl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60']);
  return running;
}

/** Removes a stopped cluster's directory. */
export function removeClusterDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
