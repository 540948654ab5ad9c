import type { PoolClient } from 'pg';

/** Where one database's WAL archiving stands, as PostgreSQL itself reports it. */
export interface WalArchiveState {
  /** A primary with archive_mode on: only then is there an archive to be behind. */
  archiving: boolean;
  /** How long the oldest completed segment has waited for archive_command (its .ready file); 0 when none waits. */
  lagSeconds: number;
  /** pg_stat_archiver: the last failure is newer than the last success, i.e. archive_command is failing now. */
  failing: boolean;
  lastFailedWal?: string;
  lastFailedAt?: string;
  lastArchivedAt?: string;
}

/**
 * Reads the archive status directory and pg_stat_archiver (superuser or pg_monitor). The monitoring's
 * dr_wal_archive_lag_seconds and the readiness check's wal-archive line both come from here.
 */
export async function readWalArchiveState(client: PoolClient): Promise<WalArchiveState> {
  const row = (await client.query<{ archiving: boolean; waited: string | null; last_failed_wal: string | null; last_failed_time: Date | null; last_archived_time: Date | null }>(`
    SELECT NOT pg_is_in_recovery() AND current_setting('archive_mode') <> 'off' AS archiving,
           (SELECT extract(epoch FROM now() - min(modification))::text FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready') AS waited,
           a.last_failed_wal, a.last_failed_time, a.last_archived_time
      FROM pg_stat_archiver a`)).rows[0]!;
  const failedAt = row.last_failed_time?.getTime();
  const archivedAt = row.last_archived_time?.getTime();
  const lagSeconds = Math.max(0, Number(row.waited ?? 0));
  return {
    archiving: row.archiving,
    lagSeconds,
    // A failure after the last success, with a segment still waiting: not an old failure since recovered.
    failing: row.archiving && failedAt !== undefined && (archivedAt === undefined || failedAt > archivedAt) && row.waited !== null,
    ...(row.last_failed_wal ? { lastFailedWal: row.last_failed_wal } : {}),
    ...(row.last_failed_time ? { lastFailedAt: row.last_failed_time.toISOString() } : {}),
    ...(row.last_archived_time ? { lastArchivedAt: row.last_archived_time.toISOString() } : {}),
  };
}
