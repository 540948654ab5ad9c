import { Client } from 'pg';
import { createValidationActivities } from '../activities/validation';
import { quoteIdentifier } from '../activities/validation/schema-catalog';
import { createAdapters } from '../worker/adapters';
import { createDatabaseConnections } from '../worker/database-connections';
import { timed, type BenchContext } from './context';
import { formatSeconds, median, type BenchResult } from './report-table';
import { describeFailedChecks } from '../contracts/validation';
import { serverCpuDuring } from './server-cpu';

/**
 * The raw operation the gate is measured against: one sequential scan of every table it reads, one
 * after the other (index scans off, so count(*) cannot answer from an index). The gate reads each of
 * them at least once; what it costs beyond that is its checks, joins and hashes.
 */
export async function sequentialScans(db: Client, tables: string[]): Promise<void> {
  await db.query('BEGIN');
  try {
    for (const setting of ['enable_indexscan', 'enable_indexonlyscan', 'enable_bitmapscan']) await db.query(`SET LOCAL ${setting} = off`);
    for (const table of tables) await db.query(`SELECT count(*) FROM ${table.split('.').map(quoteIdentifier).join('.')}`);
  } finally {
    await db.query('COMMIT');
  }
}

/**
 * The validation gate as the runbooks call it (every built-in check, with a baseline: schema, history of
 * the append-only tables, reconciliation) / one sequential scan of each table it reads, in the same run.
 */
export async function benchValidationGate(ctx: BenchContext, repetitions: number): Promise<BenchResult> {
  const adapters = createAdapters(ctx.config);
  const databases = createDatabaseConnections(ctx.config, adapters.secrets, ctx.platform);
  const validation = createValidationActivities(databases, adapters.objectStore, { application: ctx.config.application });
  const raw = new Client({ connectionString: ctx.stack.production.url(ctx.stack.databaseName) });
  await raw.connect();
  try {
    // A baseline read from production itself (not timed): the gate's work is the same as against a backup's.
    // It gets no verdict, so no runbook ever takes it for a backup's.
    ctx.log('validation: measuring a baseline (not timed)');
    const now = new Date().toISOString();
    const { baselineKey, tables } = await validation.captureBaseline({ database: 'production', backup: { label: 'bench', startedAt: now, stoppedAt: now } });
    const read = Object.keys(tables);
    // The dataset's transactions are dated 2025: the recency check is asked about its own newest row.
    const newest = (await raw.query<{ t: Date }>('SELECT max(created_at) AS t FROM transactions')).rows[0]!.t.toISOString();
    const input = { database: 'production', baselineKey, incidentTime: newest };
    // With one repetition (full scale: minutes per round) the page cache is left as the earlier steps made it.
    let first: Awaited<ReturnType<typeof validation.runValidationChecks>> | undefined;
    if (repetitions > 1) {
      ctx.log('validation: warming up (one round of sequential scans, one gate)');
      await sequentialScans(raw, read);
      first = await validation.runValidationChecks(input);
    }
    const gateMs: number[] = [];
    const rawMs: number[] = [];
    const gateCpu: number[] = [];
    const rawCpu: number[] = [];
    const postmaster = ctx.stack.production.pid;
    for (let i = 1; i <= repetitions; i++) {
      const gate = await serverCpuDuring(postmaster, () => timed(() => validation.runValidationChecks(input)));
      const scans = await serverCpuDuring(postmaster, () => timed(() => sequentialScans(raw, read)));
      first ??= gate.value.value;
      gateMs.push(gate.value.ms);
      rawMs.push(scans.value.ms);
      if (gate.cpuSeconds !== undefined && scans.cpuSeconds !== undefined) {
        gateCpu.push(gate.cpuSeconds);
        rawCpu.push(scans.cpuSeconds);
      }
      const cpu = gate.cpuSeconds === undefined ? '' : ` (server CPU ${gate.cpuSeconds.toFixed(1)} s against ${scans.cpuSeconds?.toFixed(1)} s)`;
      ctx.log(`validation: round ${i}/${repetitions}: gate ${formatSeconds(gate.value.ms)} (${gate.value.value.checks.length} checks, ${gate.value.value.passed ? 'passed' : 'FAILED'}), sequential scans of ${read.length} tables ${formatSeconds(scans.value.ms)}${cpu}`);
    }
    const ratio = median(gateMs) / median(rawMs);
    // The wall clock on shared cores depends on the neighbours; the server's CPU time does not (server-cpu.ts).
    const cpu = gateCpu.length ? `; server CPU (median): gate ${median(gateCpu).toFixed(1)} s, scans ${median(rawCpu).toFixed(1)} s (${(median(gateCpu) / median(rawCpu)).toFixed(1)}×)` : '';
    const slowest = [...first!.checks].sort((a, b) => b.durationMs - a.durationMs).slice(0, 4).map((c) => `${c.id} ${formatSeconds(c.durationMs)}`).join(', ');
    return {
      name: 'validation gate / sequential scan of the tables it reads',
      figure: formatSeconds(median(gateMs)),
      raw: formatSeconds(median(rawMs)),
      ratio,
      goal: '≤ 2',
      // A gate that does not pass on the clean dataset did not do its work: no verdict of met from it.
      met: ratio <= 2 && first!.passed,
      note: `median of ${repetitions}${repetitions > 1 ? ' after a warm-up' : ', no warm-up'}; ${first!.checks.length} checks over ${read.length} tables (${first!.passed ? 'all passed' : `FAILED: ${describeFailedChecks(first!)}`}); slowest: ${slowest} (checks run 3 at a time beside the measurement; the history and reconciliation wait for the measurement; raw: count(*) of each table by sequential scan, parallel workers as the server plans them)${cpu}`,
    };
  } finally {
    await raw.end();
    await databases.close();
  }
}
