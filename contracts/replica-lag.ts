// How far a replica is behind its primary, and what that means for a failover: measured by the platform,
// judged here, in one place, by every runbook that promotes a replica.

/**
 * The replica's replay position against its primary's WAL. `unknown` is a state, not a number: the
 * primary did not answer (what an outage looks like) or the replica has replayed nothing yet.
 */
export type ReplicaLag =
  | { state: 'caught-up' }
  | { state: 'behind'; bytes: number }
  | { state: 'unknown'; reason: string };

/** A lag as platforms reported it before it was typed: bytes, -1 when the primary did not answer. */
type RecordedLag = ReplicaLag | number | null | undefined;

/** The typed lag of a value measured now or recorded in an older history (a number of bytes, -1 or null for unknown). */
export function replicaLagOf(recorded: RecordedLag): ReplicaLag {
  if (typeof recorded === 'object' && recorded !== null) return recorded;
  if (typeof recorded !== 'number' || recorded < 0 || Number.isNaN(recorded)) return { state: 'unknown', reason: 'the primary did not answer' };
  return recorded === 0 ? { state: 'caught-up' } : { state: 'behind', bytes: recorded };
}

/** Bytes of WAL not replayed yet; undefined when unknown. */
export function bytesBehind(lag: ReplicaLag): number | undefined {
  return lag.state === 'caught-up' ? 0 : lag.state === 'behind' ? lag.bytes : undefined;
}

export interface LagJudgement {
  /** The primary answered while the lag was measured: it is up, whatever the checks said. */
  primaryAnswered: boolean;
  /** Seconds of commits before `at` a promotion now may lose (0 when caught up); undefined when nothing can be said. */
  lossSeconds?: number;
  /** The newest commit a promotion now keeps, as a time, and why that is the bound. */
  recoveryPoint?: { newestCommittedAt: string; basis: string };
}

/**
 * What a replica's lag means for promoting it at `at` (the failure, or the measurement): caught up, it
 * keeps everything up to `at`; otherwise it keeps what it has replayed, and with the primary gone the
 * commits after its newest replayed one may be lost (the conservative bound).
 */
export function judgeReplicaLag(input: { lag: ReplicaLag; newestReplayedCommitAt?: string | null; at: string; primary: string }): LagJudgement {
  const { lag, newestReplayedCommitAt: newest, at, primary } = input;
  const primaryAnswered = lag.state !== 'unknown';
  if (lag.state === 'caught-up') return { primaryAnswered, lossSeconds: 0, recoveryPoint: { newestCommittedAt: at, basis: `replayed everything ${primary} has written` } };
  if (!newest) return { primaryAnswered };
  return {
    primaryAnswered,
    lossSeconds: Math.max(0, (Date.parse(at) - Date.parse(newest)) / 1000),
    recoveryPoint: { newestCommittedAt: newest, basis: lag.state === 'behind' ? `${lag.bytes} bytes behind ${primary}` : `${primary} does not answer: commits after the newest replayed one may be lost` },
  };
}
