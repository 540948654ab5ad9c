import type { Client } from 'pg';
import type { ReplicaLag } from '../../contracts/replica-lag';
import type { ReplicationStatus } from '../ports/database-platform';

// What a PostgreSQL server says about itself, whoever runs it: the facts of an InstanceDescription that
// only the database knows (role, WAL positions, timeline, replication), read the same way by every adapter.

export interface ServerState {
  inRecovery: boolean;
  /** pg_current_wal_lsn() on a primary. */
  currentLsn?: string;
  /** pg_last_wal_replay_lsn() on a replica (or an instance that replayed WAL before promotion). */
  replayLsn?: string;
  /** pg_last_xact_replay_timestamp(): the newest commit replayed; it stays after promotion until a restart. */
  lastReplayedCommitAt?: Date;
  timeline: number;
  streaming: boolean;
}

export async function readServerState(client: Client): Promise<ServerState> {
  const row = (await client.query<{ in_recovery: boolean; current_lsn: string | null; replay_lsn: string | null; last_replay: Date | null; timeline: number; streaming: boolean }>(`
    SELECT pg_is_in_recovery() AS in_recovery,
           CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS current_lsn,
           pg_last_wal_replay_lsn()::text AS replay_lsn,
           pg_last_xact_replay_timestamp() AS last_replay,
           (SELECT timeline_id FROM pg_control_checkpoint()) AS timeline,
           EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AS streaming`)).rows[0]!;
  return {
    inRecovery: row.in_recovery,
    ...(row.current_lsn ? { currentLsn: row.current_lsn } : {}),
    ...(row.replay_lsn ? { replayLsn: row.replay_lsn } : {}),
    ...(row.last_replay ? { lastReplayedCommitAt: row.last_replay } : {}),
    timeline: row.timeline,
    streaming: row.streaming,
  };
}

/**
 * A replica's lag behind its source: the bytes between the source's current WAL position (undefined when
 * the source does not answer) and what the replica has replayed.
 */
export async function replicationOf(replica: Client, state: ServerState, sourceInstanceId: string, sourceLsn: string | undefined): Promise<ReplicationStatus> {
  const bytes = sourceLsn && state.replayLsn
    ? Number((await replica.query<{ d: string }>('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::text AS d', [sourceLsn, state.replayLsn])).rows[0]!.d)
    : undefined;
  const lag: ReplicaLag = bytes === undefined ? { state: 'unknown', reason: `${sourceInstanceId} did not answer` } : bytes <= 0 ? { state: 'caught-up' } : { state: 'behind', bytes };
  const lagSeconds = lag.state === 'caught-up' || !state.lastReplayedCommitAt ? 0 : Math.max(0, (Date.now() - state.lastReplayedCommitAt.getTime()) / 1000);
  return { sourceInstanceId, lag, lagSeconds, streaming: state.streaming };
}

/** pg_current_wal_lsn() of a primary, for a replica's lag; undefined when it is in recovery itself. */
export async function currentLsnOf(client: Client): Promise<string | undefined> {
  const row = (await client.query<{ lsn: string | null }>('SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS lsn')).rows[0];
  return row?.lsn ?? undefined;
}
