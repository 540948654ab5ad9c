import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { postgresBinDir } from './binaries';
import { clusterOsUser, giveToClusterUser, ownedByClusterUser, runAsClusterUser, superuser } from './cluster';
import { writeFileAtomic } from '../../../../lib/atomic-file';

/** The OS user postgres and pgBackRest run as: the unprivileged cluster user when we are root. */
export const clusterProcessUser = () => (process.getuid?.() === 0 ? clusterOsUser() : os.userInfo().username);

/**
 * A unix socket path must fit in 107 bytes; an instance directory deep in a state dir may not leave
 * room for "/.s.PGSQL.65535", so long ones get a short directory under the system temp dir.
 */
export function socketDirFor(clusterDir: string): string {
  const inside = path.join(clusterDir, 'socket');
  if (Buffer.byteLength(path.join(inside, '.s.PGSQL.65535')) <= 100) return inside;
  return path.join(os.tmpdir(), `dr-pg-${createHash('sha256').update(clusterDir).digest('hex').slice(0, 12)}`);
}

/**
 * pg_hba/pg_ident for a primary whose WAL pgBackRest archives: the cluster user may connect as the
 * superuser over the socket (peer), everyone else comes through loopback TCP with a password.
 */
export async function writePrimaryAccessFiles(clusterDir: string): Promise<{ hbaFile: string; identFile: string }> {
  const hbaFile = path.join(clusterDir, 'pg_hba.conf');
  const identFile = path.join(clusterDir, 'pg_ident.conf');
  writeFileAtomic(hbaFile, [
    '# Written by the dr-runbooks local platform.',
    `local   all           ${superuser}   peer map=cluster-user`,
    'host    all           all        127.0.0.1/32   scram-sha-256',
    'host    replication   all        127.0.0.1/32   scram-sha-256',
    '',
  ].join('\n'), 0o644);
  writeFileAtomic(identFile, `cluster-user   ${clusterProcessUser()}   ${superuser}\n`, 0o644);
  await giveToClusterUser(hbaFile);
  await giveToClusterUser(identFile);
  return { hbaFile, identFile };
}

export async function ensureSocketDir(clusterDir: string): Promise<string> {
  const dir = socketDirFor(clusterDir);
  await ownedByClusterUser(dir);
  return dir;
}

export function dataDirOf(clusterDir: string): string {
  return path.join(clusterDir, 'data');
}

/** The running postmaster's pid, or undefined when none runs for this data directory. */
export function runningPostmaster(dataDir: string): number | undefined {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

export async function stopPostmaster(dataDir: string, mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
  if (!runningPostmaster(dataDir)) return;
  try {
    await runAsClusterUser(path.join(postgresBinDir(), 'pg_ctl'), ['stop', '-D', dataDir, '-m', mode, '-w', '-t', '60']);
  } catch (error) {
    if (mode === 'immediate' || !runningPostmaster(dataDir)) {
      if (runningPostmaster(dataDir)) throw error;
      return;
    }
    await runAsClusterUser(path.join(postgresBinDir(), 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '60']);
  }
}

/**
 * Settings pgBackRest's restore wrote into postgresql.auto.conf (restore_command, recovery targets),
 * without those that belong to the source cluster (its port, socket, archiving, access files).
 */
export function recoverySettingsFrom(autoConfFile: string): Record<string, string> {
  const dropped = new Set(['port', 'listen_addresses', 'unix_socket_directories', 'archive_mode', 'archive_command', 'hba_file', 'ident_file', 'logging_collector']);
  const settings: Record<string, string> = {};
  if (!existsSync(autoConfFile)) return settings;
  for (const line of readFileSync(autoConfFile, 'utf8').split('\n')) {
    const match = /^\s*([a-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match && !dropped.has(match[1]!)) settings[match[1]!] = match[2]!;
  }
  return settings;
}

/** Newest modification time of any file under a directory (the local repository's WAL archive). */
export function newestFileTime(dir: string): Date | undefined {
  if (!existsSync(dir)) return undefined;
  let newest: number | undefined;
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/^[0-9A-F]{24}/.test(entry.name)) newest = Math.max(newest ?? 0, statSync(full).mtimeMs);
    }
  };
  walk(dir);
  return newest === undefined ? undefined : new Date(newest);
}

/** Lines of the PostgreSQL log that say where recovery stopped, newest last. */
export function recoveryStopLines(logFile: string): string[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8').split('\n').filter((l) => /recovery stopping (before|after|at)/.test(l));
}

export function logTail(logFile: string, lines = 8): string {
  if (!existsSync(logFile)) return '(no log)';
  return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
