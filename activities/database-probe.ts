import type { DatabaseDirectory } from './database-connections';

export interface DatabaseProbe {
  database: string;
  /** True when the database answered a query within the timeout. */
  reachable: boolean;
  /** The worker's clock when the probe started, ISO 8601. */
  checkedAt: string;
  responseMs: number;
  /** Why it is unreachable (connection refused, timed out, …); never a connection string. */
  error?: string;
}

export interface NewestCommit {
  database: string;
  /** The newest commit the database holds (made or replayed), ISO 8601; undefined when it knows of none. */
  newestCommitAt?: string;
  /** True on a standby still replaying. */
  inRecovery: boolean;
}

/**
 * Probes for confirming a server failure and measuring what a recovered database holds. A probe never
 * throws for an unreachable database: "unreachable" is the answer the failure window counts.
 */
export function createDatabaseProbeActivities(databases: DatabaseDirectory) {
  return {
    async probeDatabase(input: { database: string; timeoutSeconds?: number }): Promise<DatabaseProbe> {
      const pool = await databases.pool(input.database); // an unknown name is a config error, not an outage: it throws
      const timeoutMs = Math.round((input.timeoutSeconds ?? 5) * 1000);
      const started = Date.now();
      const checkedAt = new Date(started).toISOString();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          pool.query('SELECT 1'),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
          }),
        ]);
        return { database: input.database, reachable: true, checkedAt, responseMs: Date.now() - started };
      } catch (error) {
        return { database: input.database, reachable: false, checkedAt, responseMs: Date.now() - started, error: (error as Error).message || String(error) };
      } finally {
        clearTimeout(timer);
      }
    },

    /**
     * The newest commit a database holds: commit timestamps (track_commit_timestamp) or, on a standby
     * or a freshly recovered instance, the last replayed commit. What an RPO is measured from.
     */
    async readNewestCommit(input: { database: string }): Promise<NewestCommit> {
      const row = (await (await databases.pool(input.database)).query<{ newest: string | null; in_recovery: boolean }>(`
        SELECT to_char(greatest(
                 CASE WHEN current_setting('track_commit_timestamp') = 'on' THEN (pg_last_committed_xact()).timestamp END,
                 pg_last_xact_replay_timestamp()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS newest,
               pg_is_in_recovery() AS in_recovery`)).rows[0]!;
      return { database: input.database, inRecovery: row.in_recovery, ...(row.newest ? { newestCommitAt: row.newest } : {}) };
    },
  };
}
