import type { Pool } from 'pg';

/**
 * Which one-time codes have been used, per approver: a code (its TOTP time step) counts once across
 * every runbook the control database serves, and never again once a later one was used (RFC 6238 §5.2).
 * Kept beside the audit trail, in `dr_vote_codes_used` (installAuditSchema creates it).
 */
export interface UsedCodes {
  /** The newest step used by this approver, if any. */
  lastStep(approver: string): Promise<number | undefined>;
  /**
   * Takes the step for this approver, atomically. `use` names who took it (the workflow and activity), so
   * a retried attempt that already took it gets true again; false when this or a later step was taken.
   */
  take(approver: string, step: number, use: { workflowId: string; activityId: string }): Promise<boolean>;
}

/** `pool` may be on its way (the worker's pools are looked up asynchronously). */
export function createUsedCodes(poolOrPending: Pool | Promise<Pool>): UsedCodes {
  const pending = Promise.resolve(poolOrPending);
  pending.catch(() => undefined); // a failure is reported by the first vote that needs the pool
  return {
    async lastStep(approver) {
      const { rows } = await (await pending).query<{ step: string | null }>('SELECT max(step)::text AS step FROM dr_vote_codes_used WHERE approver = $1', [approver]);
      return rows[0]?.step == null ? undefined : Number(rows[0].step);
    },
    async take(approver, step, use) {
      const client = await (await pending).connect();
      try {
        await client.query('BEGIN');
        // One taker per approver at a time: two runbooks given the same code cannot both take it.
        await client.query("SELECT pg_advisory_xact_lock(hashtext('dr_vote_codes_used'), hashtext($1))", [approver]);
        const mine = await client.query('SELECT 1 FROM dr_vote_codes_used WHERE approver = $1 AND step = $2 AND workflow_id = $3 AND activity_id = $4', [approver, step, use.workflowId, use.activityId]);
        if (mine.rowCount) {
          await client.query('COMMIT');
          return true;
        }
        const last = await client.query<{ step: string | null }>('SELECT max(step)::text AS step FROM dr_vote_codes_used WHERE approver = $1', [approver]);
        if (last.rows[0]?.step != null && Number(last.rows[0].step) >= step) {
          await client.query('ROLLBACK');
          return false;
        }
        await client.query('INSERT INTO dr_vote_codes_used (approver, step, workflow_id, activity_id, used_at) VALUES ($1, $2, $3, $4, now())', [approver, step, use.workflowId, use.activityId]);
        await client.query('COMMIT');
        return true;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
  };
}

/** Codes remembered by this process only: for tests and workers without a control database (one worker). */
export function createUsedCodesInMemory(): UsedCodes {
  const taken = new Map<string, { step: number; use: string }>();
  return {
    async lastStep(approver) {
      return taken.get(approver)?.step;
    },
    async take(approver, step, use) {
      const key = `${use.workflowId}\u0000${use.activityId}`;
      const last = taken.get(approver);
      if (last && last.step === step && last.use === key) return true;
      if (last && last.step >= step) return false;
      taken.set(approver, { step, use: key });
      return true;
    },
  };
}
