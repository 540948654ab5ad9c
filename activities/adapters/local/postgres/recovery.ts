import path from 'node:path';
import { sleep } from '../../../../lib/child-process';
import { PlatformVerificationError, type OperationOptions, type RecoveryPoint, type RecoveryTarget } from '../../../ports/database-platform';
import { CommandAbortedError } from './cluster-user-command';
import { dataDirOf, logTail, recoveryStopLines, runningPostmaster } from './cluster-files';
import type { Client } from 'pg';
import { watchFile } from '../../../../lib/file-watch';
import { connectTo, endQuietly, withClient } from './instance-access';
import type { InstanceRecord } from './instance-registry';

// A restored instance replaying WAL: waiting for it to reach its target, checking it stopped where it was
// asked to, promoting it, and saying in words why it died when it did.

export type RecoveryState = { in_recovery: boolean; pause_state: string; replay_lsn: string | null };

const recoveryStateQuery = `SELECT pg_is_in_recovery() AS in_recovery,
    -- pg_get_wal_replay_pause_state() raises once recovery has ended
    CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() ELSE 'not paused' END AS pause_state,
    pg_last_wal_replay_lsn()::text AS replay_lsn`;

const readRecoveryState = async (c: Client) => (await c.query<RecoveryState>(recoveryStateQuery)).rows[0]!;

export async function recoveryState(r: InstanceRecord): Promise<RecoveryState> {
  return withClient(r, readRecoveryState);
}

/** Why a restored instance died, in words, with the end of its log. */
export function recoveryFailure(r: InstanceRecord, fallback: string): string {
  const tail = logTail(path.join(r.dir, 'postgres.log'));
  const target = r.origin.kind === 'pointInTime' ? ` ${JSON.stringify(r.origin.target)}` : '';
  const why = /recovery ended before configured recovery target was reached/.test(tail)
    ? `the archived WAL ends before the recovery target${target} (a restore point that was never created, or WAL not archived yet)`
    : fallback;
  const backup = r.origin.kind === 'enrolled' ? '' : ` Backup set ${r.origin.backupLabel}.`;
  return `restore into "${r.instanceId}" failed: ${why}; the half-built instance is removed.${backup} Its log ends with:\n${tail}`;
}

/** The longest wait between two looks at the server when its log says nothing (a long replay). */
const idleLookMs = 250;
const progressEveryMs = 1000;

/**
 * One connection to a replaying instance, kept from the wait for its target through the check of where
 * it stopped to the promotion, as an operator's one psql session would be: each step would otherwise
 * open (and authenticate) a connection of its own. The caller ends it (endSession).
 */
export interface RecoverySession {
  client?: Client;
}

export async function endSession(session: RecoverySession): Promise<void> {
  if (session.client) session.client = await endQuietly(session.client);
}

/** Runs `fn` on the session's connection, or (no session, or none open yet) on a connection of its own. */
function onSession<T>(r: InstanceRecord, session: RecoverySession | undefined, fn: (c: Client) => Promise<T>): Promise<T> {
  return session?.client ? fn(session.client) : withClient(r, fn);
}

/**
 * Waits until the condition holds, reporting replay progress; fails if the postmaster dies or the
 * timeout passes. PostgreSQL logs each step of recovery (the target reached, the pause, the end of
 * recovery), so every line it writes wakes the wait at once; without one it looks again after a short
 * interval that grows to idleLookMs. One connection serves every look (the session's, left open for the
 * next step, when one is given).
 */
export async function waitForRecovery(r: InstanceRecord, until: (s: RecoveryState) => boolean, opts: OperationOptions, what: string, timeoutMs: number, session?: RecoverySession): Promise<RecoveryState> {
  const deadline = Date.now() + timeoutMs;
  const log = watchFile(path.join(r.dir, 'postgres.log'));
  let client: Client | undefined = session?.client;
  let reportedAt = 0;
  try {
    for (let look = 0; ; look++) {
      if (opts.signal?.aborted) throw new CommandAbortedError(`cancelled while waiting for ${what}`);
      if (!runningPostmaster(dataDirOf(r.dir))) {
        throw new PlatformVerificationError(recoveryFailure(r, `PostgreSQL stopped while waiting for ${what}`));
      }
      const changed = log.changed();
      client ??= await connectTo(r).catch(() => undefined);
      const state = client ? await readRecoveryState(client).catch(() => undefined) : undefined;
      if (client && !state) client = await endQuietly(client);
      if (state && until(state)) return state;
      if (state && Date.now() - reportedAt >= progressEveryMs) {
        reportedAt = Date.now();
        opts.onProgress?.({ phase: 'replaying', replayLsn: state.replay_lsn ?? undefined, message: `waiting for ${what}` });
      }
      if (Date.now() > deadline) throw new PlatformVerificationError(`instance "${r.instanceId}" did not reach ${what} within ${timeoutMs / 1000} s`);
      await Promise.race([changed, sleep(Math.min(idleLookMs, 5 * 2 ** look))]);
    }
  } finally {
    log.close();
    if (session) session.client = client;
    else if (client) await endQuietly(client);
  }
}

/** Ends recovery: resumes a paused replay (which then promotes) or promotes a standby, and waits until it has. */
export async function promote(r: InstanceRecord, opts: OperationOptions, how: 'resume' | 'promote', timeoutMs: number, session?: RecoverySession): Promise<void> {
  opts.onProgress?.({ phase: 'promoting' });
  await onSession(r, session, (c) => c.query(how === 'resume' ? 'SELECT pg_wal_replay_resume()' : 'SELECT pg_promote(true, 60)'));
  await waitForRecovery(r, (s) => !s.in_recovery, opts, 'promotion', timeoutMs, session);
}

/**
 * Reads where recovery actually stopped (the instance is paused at its target) and fails unless it
 * is the requested target: pgbackrest#1582 saw "time" restores silently replay to the end of WAL.
 */
export async function verifyRecoveryPoint(r: InstanceRecord, target: RecoveryTarget, session?: RecoverySession): Promise<{ recoveredTo: RecoveryPoint; dataLossWindowSeconds?: number }> {
  const stop = recoveryStopLines(path.join(r.dir, 'postgres.log')).at(-1);
  const stopReason = stop ? stop.replace(/^.*?(recovery stopping)/, '$1') : undefined;
  return onSession(r, session, async (c) => {
    const point = (await c.query<{ last_commit: string | null; lsn: string }>(`SELECT to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS last_commit, pg_last_wal_replay_lsn()::text AS lsn`)).rows[0]!;
    const recoveredTo: RecoveryPoint = { lastCommitAt: point.last_commit ?? undefined, lsn: point.lsn, stopReason };
    const fail = (why: string) => new PlatformVerificationError(`point-in-time restore "${r.instanceId}" did not stop at its target ${JSON.stringify(target)}: ${why} (recovered to ${JSON.stringify(recoveredTo)}); the instance is removed`);
    if (target.kind === 'name') {
      if (!stopReason?.includes(`at restore point "${target.name}"`)) throw fail(`PostgreSQL did not report stopping at restore point "${target.name}"`);
      return { recoveredTo };
    }
    if (target.kind !== 'time') return { recoveredTo };
    const stopTime = /time (\d{4}-\d\d-\d\d [\d:.]+[+-]\d\d(?::?\d\d)?)/.exec(stopReason ?? '')?.[1];
    if (!stopReason || !stopTime) throw fail('PostgreSQL did not report stopping at a commit past the target');
    const check = (await c.query<{ commit_ok: boolean | null; stop_ok: boolean; window_s: number | null }>(
      `SELECT pg_last_xact_replay_timestamp() <= $1::timestamptz AS commit_ok,
              CASE WHEN $3 THEN $2::timestamptz > $1::timestamptz ELSE $2::timestamptz <= $1::timestamptz END AS stop_ok,
              extract(epoch FROM $1::timestamptz - pg_last_xact_replay_timestamp())::float8 AS window_s`,
      [target.time, stopTime, stopReason.includes('stopping before')],
    )).rows[0]!;
    if (check.commit_ok === false) throw fail('it holds commits made after the target');
    if (!check.stop_ok) throw fail(`PostgreSQL stopped at a commit at ${stopTime}, on the wrong side of the target`);
    return { recoveredTo, dataLossWindowSeconds: check.window_s ?? undefined };
  });
}
