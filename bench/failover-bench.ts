import { Client } from 'pg';
import { startRunbook } from '../client/runbooks';
import { approveUpdate, statusQuery } from '../workflows/messages';
import type { RunbookResult } from '../contracts/runbook-status';
import { recoverFromServerFailureInput } from '../workflows/recover-from-server-failure';
import { sleep, type BenchContext } from './context';
import { formatSeconds, type BenchResult } from './report-table';

export const replicaId = 'bench-replica';
const healthIntervalMs = 1000;

async function answers(url: string): Promise<boolean> {
  const db = new Client({ connectionString: url, connectionTimeoutMillis: healthIntervalMs });
  db.on('error', () => undefined);
  try {
    await db.connect();
    await db.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await db.end().catch(() => undefined);
  }
}

/**
 * Failover with a replica, in absolute seconds, driven by the runbook: production is killed (SIGKILL of
 * its postmaster); recoverFromServerFailure confirms the failure with two checks one second apart,
 * measures the standby's lag, promotes it, validates it, waits at its cutover gate (approved at once by
 * the bench), rotates the app's password there, points the app at it, restarts it and waits (1 s polls)
 * until it answers from the standby.
 * The figure is the runbook's own RTO clock, declared at the kill. Production is left dead: run this last.
 */
export async function benchFailover(ctx: BenchContext): Promise<BenchResult> {
  ctx.log(`failover: building replica ${replicaId} of production (not timed)`);
  let phase = '';
  const replica = await ctx.platform.createReplica({ instanceId: replicaId, sourceInstanceId: 'production' }, {
    onProgress: (p) => {
      if (p.phase === phase) return;
      phase = p.phase;
      ctx.log(`  replica: ${p.phase}${p.message ? ` — ${p.message}` : ''}`);
    },
  });
  ctx.log(`failover: replica streaming on port ${replica.instance.endpoint.port}`);
  const productionUrl = ctx.stack.production.url(ctx.stack.databaseName);
  if (!(await answers(productionUrl))) throw new Error('production does not answer before the failover benchmark');
  // A fresh commit, so the standby's replayed commit time (its RPO) is recent.
  await (async () => {
    const db = new Client({ connectionString: productionUrl });
    await db.connect();
    try {
      await db.query(`INSERT INTO transactions (account_id, user_id, amount, description) SELECT id, user_id, 0.00, 'bench: failover marker' FROM accounts ORDER BY id LIMIT 1`);
    } finally {
      await db.end();
    }
  })();
  await sleep(1000);

  ctx.log(`failover: killing production (SIGKILL postmaster ${ctx.stack.production.pid})`);
  const declaredAt = new Date().toISOString();
  process.kill(ctx.stack.production.pid, 'SIGKILL');
  const input = recoverFromServerFailureInput.parse({ incidentId: `BENCH-FAILOVER-${Date.now()}`, startedBy: 'bench', replica: replicaId, checks: 2, checkIntervalSeconds: healthIntervalMs / 1000, checkTimeoutSeconds: 1, declaredAt });
  const handle = await startRunbook(ctx.temporal, { workflowType: 'recoverFromServerFailure', scenario: 'server-failure', input, taskQueue: ctx.taskQueue });
  for (;;) {
    const status = await handle.query(statusQuery);
    if (status.verdict) break;
    const gate = status.openGates.find((g) => g.gate === 'cutover');
    if (gate) {
      const approver = gate.stillMayApprove[0];
      if (!approver) throw new Error('nobody may approve the cutover gate in the bench config');
      await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver, comment: 'bench: approved at once' }] });
      break;
    }
    await sleep(100);
  }
  const result = (await handle.result()) as RunbookResult;
  if (result.verdict !== 'completed' || !result.rto.cutoverVerifiedAt) throw new Error(`the runbook ended ${result.verdict}: ${result.verdictDetail}`);
  const at = (ms: string) => formatSeconds(Date.parse(ms) - Date.parse(declaredAt));
  const steps = result.timeline.filter((t) => t.endedAt && !t.step.startsWith('gate ') && t.outcome !== 'notified').map((t) => `${t.step} done at ${at(t.endedAt!)}`);
  const totalMs = result.rto.elapsedSeconds * 1000;
  return {
    name: 'failover by recoverFromServerFailure with a replica (absolute)',
    figure: formatSeconds(totalMs),
    goal: '≤ 10 s',
    met: totalMs <= 10_000,
    note: `RTO from the kill to cutover verified (2 checks 1 s apart, validation of the promoted standby, gate approved at once, 1 s health polls): ${steps.join('; ')}`,
  };
}
