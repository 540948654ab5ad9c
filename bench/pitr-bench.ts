import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { Client } from 'pg';
import { startRunbook } from '../client/runbooks';
import { recoverySettingsFrom } from '../activities/adapters/local/postgres/cluster-files';
import { runPgBackRest } from '../activities/adapters/local/postgres/pgbackrest';
import { ownedByClusterUser, startPostgresCluster, type PostgresCluster } from '../activities/adapters/local/postgres/cluster';
import { statusQuery } from '../workflows/messages';
import { recoverFromAccidentalDeletionInput } from '../workflows/recover-from-accidental-deletion';
import { sleep, type BenchContext } from './context';
import { historyBreakdown, recoveryLogBreakdown, workflowHistory } from './pitr-breakdown';
import { formatSeconds, type BenchResult } from './report-table';

export interface PitrTarget {
  backupLabel: string;
  /** ISO 8601, between two marker commits, after the backup. */
  time: string;
}

/** Writes a commit, takes the target time, writes another commit, and has the WAL archived (so both restores can reach it). */
export async function preparePitrTarget(ctx: BenchContext): Promise<PitrTarget> {
  ctx.log('pitr: incremental backup (not timed)');
  const backup = await ctx.platform.takeBackup({ sourceInstanceId: 'production', type: 'incr' });
  const db = new Client({ connectionString: ctx.stack.production.url(ctx.stack.databaseName) });
  await db.connect();
  try {
    await db.query("INSERT INTO bench_marks (label) VALUES ('before the target')");
    // The seeded transactions are dated 2025: a recent one (of 0.00, so balances still add up) lets the
    // runbook's validation of the recovered instance pass its recency check, as it would in production.
    await db.query("INSERT INTO transactions (account_id, user_id, amount, description, created_at) SELECT id, user_id, 0, 'bench marker', now() FROM accounts WHERE id = 1");
    await sleep(1000);
    const time = new Date().toISOString();
    await sleep(1000);
    await db.query("INSERT INTO bench_marks (label) VALUES ('after the target')");
    await runPgBackRest(ctx.pgbackrest, 'check');
    return { backupLabel: backup.label, time };
  } finally {
    await db.end();
  }
}

async function poll<T>(what: string, read: () => Promise<T | undefined>, intervalMs = 100, timeoutMs = 3_600_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** The by-hand restore looks this often (on one connection) for the pause and the promotion: no later than the runbook sees them. */
const rawLookMs = 10;

/**
 * The raw operation, by hand: `pgbackrest restore --type=time` of the same backup set with the same
 * options the local platform passes, start PostgreSQL, wait until replay pauses at the target, check
 * the last replayed commit is not past it, resume, wait for promotion. Returns the running cluster.
 */
export async function restoreByHand(ctx: BenchContext, target: PitrTarget, name: string): Promise<{ ms: number; cluster: PostgresCluster }> {
  const dir = path.join(ctx.stateDir, 'by-hand', name);
  rmSync(dir, { recursive: true, force: true });
  const dataDir = path.join(dir, 'data');
  await ownedByClusterUser(dataDir);
  chmodSync(dataDir, 0o700);
  copyFileSync(path.join(ctx.stack.production.dir, 'superuser.password'), path.join(dir, 'superuser.password'));
  const started = performance.now();
  await runPgBackRest(ctx.pgbackrest, 'restore', [
    `--pg1-path=${dataDir}`, `--set=${target.backupLabel}`, `--process-max=${ctx.pgbackrest.processMax}`, '--archive-mode=off',
    '--type=time', `--target=${target.time.replace('T', ' ').replace('Z', '+00')}`, '--target-action=pause', '--target-timeline=current',
  ]);
  const copied = performance.now();
  const settings = { ...recoverySettingsFrom(path.join(dataDir, 'postgresql.auto.conf')), archive_mode: 'off' };
  const cluster = await startPostgresCluster({ dir, settings, startTimeoutSeconds: 3600 });
  const up = performance.now();
  let paused = 0;
  const db = new Client({ connectionString: cluster.url(ctx.stack.databaseName) });
  await db.connect();
  try {
    await poll('replay to pause at the target', async () => {
      const r = (await db.query<{ paused: boolean }>("SELECT pg_is_in_recovery() AND pg_get_wal_replay_pause_state() = 'paused' AS paused")).rows[0]!;
      return r.paused ? true : undefined;
    }, rawLookMs);
    paused = performance.now();
    const check = (await db.query<{ ok: boolean }>('SELECT pg_last_xact_replay_timestamp() <= $1::timestamptz AS ok', [target.time])).rows[0]!;
    if (!check.ok) throw new Error(`the restore by hand replayed past its target ${target.time}`);
    await db.query('SELECT pg_wal_replay_resume()');
    await poll('promotion', async () => ((await db.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r ? undefined : true), rawLookMs);
  } finally {
    await db.end();
  }
  const ms = performance.now() - started;
  const mark = (t: number) => `+${((t - started) / 1000).toFixed(2)}`;
  ctx.log(`pitr: by hand: pgbackrest restore ${mark(copied)}, pg_ctl start returned ${mark(up)}, paused seen ${mark(paused)}, promoted seen ${mark(started + ms)}; its log: ${recoveryLogBreakdown(path.join(dir, 'postgres.log'), performance.timeOrigin + started)}`);
  return { ms, cluster };
}

/**
 * The runbook: recoverFromAccidentalDeletion in drill mode on the real worker, from workflow start to
 * the end of its restore step (new instance promoted, recovery point verified by the platform). The
 * run goes on to validate the instance and stops at its cutover gate, where it is cancelled (with no
 * activity running against the instance); its compensation removes the recovered instance.
 */
export async function restoreByRunbook(ctx: BenchContext, target: PitrTarget): Promise<number> {
  const input = recoverFromAccidentalDeletionInput.parse({
    incidentId: `BENCH-${Date.now().toString(36).toUpperCase()}`,
    startedBy: 'bench',
    mode: 'drill',
    targetTime: target.time,
    declaredAt: new Date().toISOString(),
    resolution: 'cutover',
  });
  const started = Date.now();
  const handle = await startRunbook(ctx.temporal, { workflowType: 'recoverFromAccidentalDeletion', scenario: 'accidental-deletion', input, taskQueue: ctx.taskQueue });
  const restored = await poll('the runbook\'s restore step', async () => {
    const status = await handle.query(statusQuery);
    const step = status.timeline.find((t) => t.step.startsWith('restore '));
    if (status.verdict && !step?.endedAt) throw new Error(`the runbook ended (${status.verdict}) before its restore step finished`);
    return step?.endedAt ? step : undefined;
  }, 200);
  if (restored.outcome !== 'succeeded') throw new Error(`the runbook's restore step ended ${restored.outcome}: ${restored.detail ?? ''}`);
  const ms = Date.parse(restored.endedAt!) - started;
  const { timeline } = await handle.query(statusQuery);
  const steps = timeline.filter((t) => t.endedAt && Date.parse(t.startedAt) <= Date.parse(restored.endedAt!))
    .map((t) => `${t.step.split(' ').slice(0, 2).join(' ')} ${formatSeconds(Date.parse(t.endedAt!) - Date.parse(t.startedAt))}`);
  ctx.log(`pitr: runbook steps up to the restore: ${steps.join(', ')}; first step began ${formatSeconds(Date.parse(timeline[0]!.startedAt) - started)} after the start`);
  await logBreakdown(ctx, handle.workflowId, started, Date.parse(restored.endedAt!), restored.detail);
  await poll('the runbook\'s cutover gate', async () => {
    const status = await handle.query(statusQuery);
    if (status.verdict) throw new Error(`the runbook ended (${status.verdict}) before its cutover gate`);
    return status.openGates.some((g) => g.gate === 'cutover') ? true : undefined;
  }, 200);
  await handle.cancel();
  await handle.result().catch(() => undefined);
  ctx.log(`pitr: runbook ${handle.workflowId}: ${restored.detail ?? ''}`);
  return ms;
}

/** Where the runbook's time went (untimed, read after the try): its history's events and the recovered instance's log. */
async function logBreakdown(ctx: BenchContext, workflowId: string, startedMs: number, untilMs: number, detail: string | undefined): Promise<void> {
  const lines = historyBreakdown(await workflowHistory(ctx.stack.temporal, workflowId), startedMs, untilMs);
  const instanceId = /^(\S+) on port /.exec(detail ?? '')?.[1];
  const local = ctx.config.platform?.local;
  if (instanceId && local) {
    // The platform registers the instance when the backup set is chosen and the copy begins.
    const record = (JSON.parse(readFileSync(path.join(local.stateDir, 'instances.json'), 'utf8')) as { instances: Record<string, { createdAt?: string }> }).instances[instanceId];
    const copyBegan = record?.createdAt ? `backup set chosen, copy began +${((Date.parse(record.createdAt) - startedMs) / 1000).toFixed(2)}; ` : '';
    lines.push(`the recovered instance: ${copyBegan}its log: ${recoveryLogBreakdown(path.join(local.stateDir, 'instances', instanceId, 'postgres.log'), startedMs)}`);
  }
  ctx.log(`pitr: where the runbook's time went (from the start call; history event times):\n${lines.map((l) => `          ${l}`).join('\n')}`);
}

/**
 * Brings the machine to the same state before every try, untimed: what the previous step wrote (the
 * incremental backup before the first try, a runbook's validation and removed instance before the
 * others) is flushed to disk, and the backup set's files (the incremental and the full it builds on) are
 * read, so no try pays another's writeback or finds the repository colder than the try before it (the
 * page cache here is reclaimed as it cools). Without it one run's four tries spread from 9.9 s to 17.6 s
 * at 10M rows (by hand 15.0 s right after the backup, 9.9 s last; the runbook 12.2 s, then 17.6 s).
 */
async function settle(ctx: BenchContext, target: PitrTarget): Promise<void> {
  const sets = [...new Set([target.backupLabel.split('_')[0]!, target.backupLabel])].map((label) => path.join(ctx.pgbackrest.repoPath, 'backup', ctx.pgbackrest.stanza, label));
  await promisify(execFile)('sh', ['-c', 'sync && find "$@" -type f -exec cat {} + > /dev/null && sync', 'settle', ...sets], { maxBuffer: 1024 * 1024 });
}

/**
 * PITR by the runbook / the same restore by hand, each the better of two: by hand, the runbook twice,
 * by hand again, so both sides have as many tries and the same times on average (on shared cores one
 * try can be seconds off), each after the same settle. Returns the second by-hand cluster, still running.
 */
export async function benchPitr(ctx: BenchContext, target: PitrTarget): Promise<{ result: BenchResult; copy: PostgresCluster }> {
  await settle(ctx, target);
  ctx.log('pitr: restore by hand (1/2)');
  const first = await restoreByHand(ctx, target, 'pitr-1');
  ctx.log(`pitr: by hand ${formatSeconds(first.ms)}`);
  await first.cluster.stop('immediate');
  rmSync(first.cluster.dir, { recursive: true, force: true });
  const runbook: number[] = [];
  for (const n of [1, 2]) {
    await settle(ctx, target);
    ctx.log(`pitr: restore by the runbook (${n}/2: recoverFromAccidentalDeletion, drill)`);
    runbook.push(await restoreByRunbook(ctx, target));
    ctx.log(`pitr: runbook ${formatSeconds(runbook.at(-1)!)}`);
  }
  await settle(ctx, target);
  ctx.log('pitr: restore by hand (2/2); this copy is kept for the diff');
  const second = await restoreByHand(ctx, target, 'copy');
  ctx.log(`pitr: by hand ${formatSeconds(second.ms)}`);
  const rawMs = Math.min(first.ms, second.ms);
  const runbookMs = Math.min(...runbook);
  const ratio = runbookMs / rawMs;
  return {
    result: {
      name: 'PITR by runbook / by hand',
      figure: formatSeconds(runbookMs),
      raw: formatSeconds(rawMs),
      ratio,
      goal: '≤ 1.1 (+1 s)',
      met: runbookMs <= 1.1 * rawMs + 1000,
      note: `runbook: workflow start → restore step done (assess production beside the pgbackrest restore, replay, verify, promote), the better of ${runbook.map(formatSeconds).join(' and ')} (the first on a worker that had run nothing yet); by hand: the better of ${formatSeconds(first.ms)} and ${formatSeconds(second.ms)}`,
    },
    copy: second.cluster,
  };
}
