import { Client } from 'pg';
import { createLocalAppRuntime } from '../activities/platform/local/local-app-runtime';
import { createDatabaseTargetResolver } from '../worker/database-targets';
import { createSecretResolver } from '../worker/secrets';
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
 * Failover with a replica, in absolute seconds: production is killed (SIGKILL of its postmaster);
 * a health check every second notices; the replica is promoted; the app is pointed at it, restarted
 * and polled (1 s interval) until it answers from the replica. recoverFromServerFailure is not on main
 * yet, so this drives the same sequence through the platform and app-runtime adapters directly.
 * Production is left dead: run this benchmark last.
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
  const app = ctx.config.app!;
  const runtime = createLocalAppRuntime({ ...app, dnsFile: ctx.config.dns?.mappingFile });
  const target = createDatabaseTargetResolver(ctx.config, createSecretResolver(ctx.config.secretsDir), ctx.platform)(replicaId);
  const replicaUrl = `postgresql://${encodeURIComponent(target.user)}:${encodeURIComponent(target.password)}@${target.host}:${target.port}/${target.database}`;
  const systemIdentifier = await (async () => {
    const db = new Client({ connectionString: replicaUrl });
    await db.connect();
    try {
      return (await db.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0]!.id;
    } finally {
      await db.end();
    }
  })();
  const productionUrl = ctx.stack.production.url(ctx.stack.databaseName);
  if (!(await answers(productionUrl))) throw new Error('production does not answer before the failover benchmark');

  ctx.log(`failover: killing production (SIGKILL postmaster ${ctx.stack.production.pid})`);
  const killedAt = performance.now();
  process.kill(ctx.stack.production.pid, 'SIGKILL');
  const marks: Array<[string, number]> = [];
  const mark = (what: string) => marks.push([what, performance.now() - killedAt]);
  // Health window: one check a second until production fails to answer.
  while (await answers(productionUrl)) await sleep(healthIntervalMs);
  mark('primary seen down');
  await ctx.platform.promoteReplica(replicaId);
  mark('replica promoted');
  await runtime.pointAppAt(target);
  await runtime.restart();
  mark('app pointed and restarted');
  await runtime.waitHealthy({ expect: { address: `${target.host}:${target.port}`, database: target.database, systemIdentifier }, timeoutMs: 120_000, intervalMs: healthIntervalMs });
  mark('app healthy on the replica');
  const totalMs = marks.at(-1)![1];
  return {
    name: 'failover with a replica (absolute)',
    figure: formatSeconds(totalMs),
    goal: '≤ 10 s',
    met: totalMs <= 10_000,
    note: `NOT the runbook: recoverFromServerFailure is not on main yet, so the same sequence ran through the platform and app adapters (1 s health interval): ${marks.map(([w, ms]) => `${w} at ${formatSeconds(ms)}`).join(', ')}`,
  };
}
