import { judgeReplicaLag, type ReplicaLag } from '../contracts/replica-lag';
import type { DatabaseDirectory } from './database-connections';

/** How far behind its primary a replica is, and the recovery point a promotion now would give. */
export interface ReplicaLagMeasurement {
  instanceId: string;
  inRecovery: boolean;
  streaming: boolean;
  /** The replica's clock when measured, ISO 8601. */
  checkedAt: string;
  /** pg_last_xact_replay_timestamp(): the newest commit the replica has replayed; null if none since it started. */
  newestReplayedCommitAt: string | null;
  receiveLsn: string | null;
  replayLsn: string | null;
  /** WAL received but not yet replayed (promotion replays it first). */
  unreplayedBytes: number;
  /** WAL the primary has written that the replica has not replayed; unknown when the primary does not answer. */
  lag: ReplicaLag;
  /**
   * The newest commit a promotion now keeps, as a time (judgeReplicaLag): the check time when the replica
   * has replayed all the primary wrote, else its newest replayed commit. Null when nothing can be said.
   */
  recoveryPoint: { newestCommittedAt: string; basis: string } | null;
}

/** Read-only measurements for a failover: how far behind is the standby (probeDatabase says whether the primary is gone). */
export function createReplicaLagActivities(databases: DatabaseDirectory) {
  async function currentLsnOf(database: string): Promise<string | null> {
    try {
      const row = (await (await databases.pool(database)).query<{ lsn: string | null }>('SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS lsn')).rows[0];
      return row?.lsn ?? null;
    } catch {
      return null; // the primary does not answer: that is what a region outage looks like
    }
  }

  return {
    /** `database`: the primary, by its name in the worker config (runs recorded before it was named so passed `primary`). */
    async measureReplicaLag(input: { instanceId: string } & ({ database: string } | { primary: string })): Promise<ReplicaLagMeasurement> {
      const database = 'database' in input ? input.database : input.primary;
      const replica = await databases.pool(input.instanceId);
      const row = (await replica.query<{ in_recovery: boolean; checked_at: Date; last_replay: Date | null; receive_lsn: string | null; replay_lsn: string | null; unreplayed: string | null; streaming: boolean }>(`
        SELECT pg_is_in_recovery() AS in_recovery,
               now() AS checked_at,
               pg_last_xact_replay_timestamp() AS last_replay,
               pg_last_wal_receive_lsn()::text AS receive_lsn,
               pg_last_wal_replay_lsn()::text AS replay_lsn,
               pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::text AS unreplayed,
               EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AS streaming`)).rows[0]!;
      const primaryLsn = row.in_recovery && row.replay_lsn ? await currentLsnOf(database) : null;
      const bytes = primaryLsn && row.replay_lsn
        ? Math.max(0, Number((await replica.query<{ d: string }>('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::text AS d', [primaryLsn, row.replay_lsn])).rows[0]!.d))
        : undefined;
      const lag: ReplicaLag = bytes === undefined ? { state: 'unknown', reason: row.in_recovery ? `${database} does not answer` : `${input.instanceId} is not in recovery` } : bytes === 0 ? { state: 'caught-up' } : { state: 'behind', bytes };
      const checkedAt = row.checked_at.toISOString();
      const newestReplayedCommitAt = row.last_replay ? row.last_replay.toISOString() : null;
      const { recoveryPoint } = judgeReplicaLag({ lag, newestReplayedCommitAt, at: checkedAt, primary: database });
      return {
        instanceId: input.instanceId,
        inRecovery: row.in_recovery,
        streaming: row.streaming,
        checkedAt,
        newestReplayedCommitAt,
        receiveLsn: row.receive_lsn,
        replayLsn: row.replay_lsn,
        unreplayedBytes: Math.max(0, Number(row.unreplayed ?? 0)),
        lag,
        recoveryPoint: recoveryPoint ?? null,
      };
    },
  };
}
