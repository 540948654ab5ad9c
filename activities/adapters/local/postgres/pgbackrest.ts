import path from 'node:path';
import { writeFileAtomic } from '../../../../lib/atomic-file';
import { giveToClusterUser, ownedByClusterUser } from './cluster';
import type { BackupSet, BackupType } from '../../../ports/database-platform';
import { runAsClusterUserCancellable, spawnAsClusterUser, type RunningCommand } from './cluster-user-command';

/** Where one stanza's pgBackRest files live: its own config, a directory repository, logs, locks. */
export interface PgBackRestSetup {
  /** pgBackRest's --config file, written by `writePgBackRestConfig`. */
  configFile: string;
  stanza: string;
  repoPath: string;
  processMax: number;
}

export interface StanzaPrimary {
  dataDir: string;
  port: number;
  socketDir: string;
}

export const pgBackRestBinary = () => process.env.DR_PGBACKREST_BIN ?? 'pgbackrest';

/**
 * Writes the stanza's config. pgBackRest reaches PostgreSQL only through a unix socket, so the
 * primary listens on one inside its own directory (peer authentication, mapped to the superuser).
 */
export async function writePgBackRestConfig(setup: PgBackRestSetup, primary: StanzaPrimary): Promise<void> {
  const base = path.dirname(setup.configFile);
  for (const dir of [base, setup.repoPath, path.join(base, 'log'), path.join(base, 'lock'), path.join(base, 'spool')]) await ownedByClusterUser(dir);
  const text = [
    '# Written by the dr-runbooks local platform.',
    '[global]',
    `repo1-path=${setup.repoPath}`,
    // Every full backup is kept: a drill or an incident decides what to expire, not a default.
    'repo1-retention-full-type=count',
    'repo1-retention-full=9999999',
    `log-path=${path.join(base, 'log')}`,
    `lock-path=${path.join(base, 'lock')}`,
    `spool-path=${path.join(base, 'spool')}`,
    'log-level-console=info',
    'log-level-file=off',
    'start-fast=y',
    '',
    `[${setup.stanza}]`,
    `pg1-path=${primary.dataDir}`,
    `pg1-port=${primary.port}`,
    `pg1-socket-path=${primary.socketDir}`,
    'pg1-user=postgres',
    '',
  ].join('\n');
  writeFileAtomic(setup.configFile, text, 0o644);
  await giveToClusterUser(setup.configFile);
}

export function pgBackRestArgs(setup: PgBackRestSetup, command: string, options: string[] = []): string[] {
  return [`--config=${setup.configFile}`, `--stanza=${setup.stanza}`, ...options, command];
}

export function runPgBackRest(setup: PgBackRestSetup, command: string, options: string[] = [], run: { signal?: AbortSignal; onLine?: (line: string) => void } = {}) {
  return runAsClusterUserCancellable(pgBackRestBinary(), pgBackRestArgs(setup, command, options), run);
}

export function spawnPgBackRest(setup: PgBackRestSetup, command: string, options: string[], run: { signal?: AbortSignal; onLine?: (line: string) => void }): RunningCommand {
  return spawnAsClusterUser(pgBackRestBinary(), pgBackRestArgs(setup, command, options), run);
}

/** The archive_command of a primary whose WAL goes to the stanza. */
export function archiveCommand(setup: PgBackRestSetup): string {
  return `${pgBackRestBinary()} --config=${setup.configFile} --stanza=${setup.stanza} archive-push %p`;
}

interface InfoJson {
  name: string;
  status: { code: number; message: string };
  archive: Array<{ id: string; min: string | null; max: string | null }>;
  backup: Array<{
    label: string;
    type: BackupType;
    prior: string | null;
    error?: boolean;
    timestamp: { start: number; stop: number };
    info: { size: number; delta: number; repository: { size: number; delta: number } };
    archive: { start: string; stop: string };
    lsn: { start: string; stop: string };
  }>;
}

export interface StanzaInfo {
  backups: BackupSet[];
  /** Oldest and newest WAL segment in the archive, by name. */
  archiveMin?: string;
  archiveMax?: string;
}

/** `pgbackrest info --output=json`, as backup sets (oldest first) and the archive's WAL range. */
export async function stanzaInfo(setup: PgBackRestSetup, signal?: AbortSignal): Promise<StanzaInfo> {
  const { stdout } = await runPgBackRest(setup, 'info', ['--output=json'], { signal });
  // system-id exceeds 2^53: quote it before parsing so JSON.parse keeps it exact (we do not use it).
  const parsed = JSON.parse(stdout.replace(/"system-id":(\d+)/g, '"system-id":"$1"')) as InfoJson[];
  const stanza = parsed.find((s) => s.name === setup.stanza);
  if (!stanza) return { backups: [] };
  const archive = stanza.archive.at(-1);
  return {
    archiveMin: archive?.min ?? undefined,
    archiveMax: archive?.max ?? undefined,
    backups: stanza.backup
      .filter((b) => !b.error)
      .map((b) => ({
        stanza: setup.stanza,
        label: b.label,
        type: b.type,
        priorLabel: b.prior ?? undefined,
        startedAt: new Date(b.timestamp.start * 1000).toISOString(),
        stoppedAt: new Date(b.timestamp.stop * 1000).toISOString(),
        sizeBytes: b.info.size,
        repositorySizeBytes: b.info.repository.size,
        walStart: b.archive.start,
        walStop: b.archive.stop,
        lsnStart: b.lsn.start,
        lsnStop: b.lsn.stop,
      })),
  };
}

/** "restore file /x/base/5/1255 (768KB, 3.42%) checksum ..." → 3.42 */
export function restorePercent(line: string): number | undefined {
  const match = / restore file .*\(([^,]+), ([\d.]+)%\)/.exec(line);
  return match ? Number(match[2]) : undefined;
}
