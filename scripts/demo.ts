import path from 'node:path';
import { Client as PgClient } from 'pg';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { backupScheduleId, triggerBackup } from '../client/backups';
import { startRunbook } from '../client/runbooks';
import { seedFinancialDataset, smallDataset } from '../demo/financial-dataset';
import { startSteadyWriter } from '../demo/steady-writer';
import { defaultStateDir } from '../stack/paths';
import { exportHistory } from './record-history';
import { runMain } from '../lib/prerequisite-error';
import { resetLocalState, startLocalStack } from '../stack/local-stack';
import { createAdapters } from '../worker/adapters';
import { loadWorkerConfig } from '../worker/config';
import { createRunbookWorker } from '../worker/worker';
import { approveUpdate, statusQuery } from '../workflows/messages';
import type { RunbookResult } from '../contracts/runbook-status';
import { recoverFromAccidentalDeletionInput } from '../workflows/recover-from-accidental-deletion';
import type { BackupWithBaselineResult } from '../workflows/backup-with-baseline';

// `npm run demo`: a whole DR drill on this machine. The embedded stack comes up (Temporal, production
// PostgreSQL archiving to pgBackRest, the demo financial service, the hourly backup schedule), a financial
// database is seeded, backed up by the schedule with its baseline, written to steadily, and then someone
// deletes a chunk of transactions. The accidental-deletion
// runbook runs in drill mode: point-in-time restore to a new instance just before the DELETE, validation,
// a demo approver at the gate, the repair rehearsed as a dry run, cleanup; then the report with the
// measured RTO and RPO. `--once` stops everything at the end; otherwise the stack stays up until Ctrl-C.
// `--record-history <file>` also writes the drill's history (a replay fixture, see scripts/record-history.ts).
const once = process.argv.includes('--once');
const recordHistoryTo = process.argv.includes('--record-history') ? path.resolve(process.argv[process.argv.indexOf('--record-history') + 1] ?? '') : undefined;
const log = (line: string) => console.log(`demo: ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const port = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);

/** Triggers the backup schedule and waits for the run it starts: the backup, verified, with its baseline. */
async function backUpNow(client: Client): Promise<BackupWithBaselineResult> {
  const schedule = client.schedule.getHandle(backupScheduleId('production'));
  const before = new Set((await schedule.describe()).info.recentActions.map((a) => a.action.workflow.workflowId));
  await triggerBackup(client, 'production');
  for (let i = 0; i < 120; i++) {
    const started = (await schedule.describe()).info.recentActions.map((a) => a.action.workflow.workflowId).find((id) => !before.has(id));
    if (started) return (await client.workflow.getHandle(started).result()) as BackupWithBaselineResult;
    await sleep(250);
  }
  throw new Error(`the backup schedule ${backupScheduleId('production')} started no run within 30 s of being triggered`);
}

void runMain(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const stateDir = defaultStateDir();
  // Temporal's history is kept between runs (so the Web UI shows earlier drills); the databases start fresh.
  await resetLocalState(stateDir);
  const taskQueue = process.env.DR_TASK_QUEUE ?? 'dr-runbooks';
  const stack = await startLocalStack({
    stateDir,
    temporalPort: port('DR_TEMPORAL_PORT', 7233),
    temporalUiPort: port('DR_TEMPORAL_UI_PORT', 8233),
    // PostgreSQL takes free ports unless told otherwise: only Temporal's addresses need to stay put.
    productionPort: process.env.DR_PG_PORT ? Number(process.env.DR_PG_PORT) : undefined,
    // Hourly backups of production, each with its baseline; the demo takes the first one at once.
    backupSchedule: { cron: '0 * * * *', taskQueue },
    log,
  });
  let stopping: Promise<void> | undefined;
  const stopAll = () => (stopping ??= (async () => {
    log('stopping the stack');
    await stack.stop();
    log('stopped');
  })());
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(143)));

  try {
    const productionUrl = stack.production.url(stack.databaseName);
    const db = new PgClient({ connectionString: productionUrl });
    // A failed demo stops the stack with this connection still open: its end is not a second failure.
    db.on('error', () => undefined);
    await db.connect();
    log(`seeding the financial database (${smallDataset.users} users, ${smallDataset.users * smallDataset.transactionsPerUser} transactions)`);
    await seedFinancialDataset(db, smallDataset, 1);

    const config = loadWorkerConfig(stack.configFile);
    const adapters = createAdapters(config);

    // The demo's worker: the drill waits for a person at its gate (the drill policy is off), so the
    // demo approver's decision is part of the run, as it would be in a real drill.
    const connection = await NativeConnection.connect({ address: stack.temporal.address });
    const { worker, run } = await createRunbookWorker({ connection, namespace: stack.temporal.namespace, taskQueue, config: { ...config, approvals: { ...config.approvals, drill: { autoApprove: false } } } });
    const running = run();
    const clientConnection = await Connection.connect({ address: stack.temporal.address });
    const client = new Client({ connection: clientConnection, namespace: stack.temporal.namespace });

    log(`the backup schedule runs now: backupWithBaseline takes a full backup with pgBackRest, verifies it, restores it and reads its baseline`);
    const backup = await backUpNow(client);
    const baseline = backup.baseline!;
    log(`backup ${backup.backup.label} done; baseline read from its restored copy at its consistent point ${baseline.consistentAt}: ${Object.entries(baseline.tables).map(([t, f]) => `${t} ${f.rows}`).join(', ')}`);

    log('the application keeps writing transactions (10 per second)');
    const writer = startSteadyWriter({ connectionString: productionUrl, ratePerSecond: 10 });
    await sleep(3000);
    const targetTime = new Date().toISOString();
    await sleep(1000);
    const deleted = await db.query('DELETE FROM transactions WHERE id % 10 = 3 AND id <= 2000');
    log(`INCIDENT: someone ran DELETE FROM transactions … and removed ${deleted.rowCount} rows at ${new Date().toISOString()}`);
    await db.end();
    await sleep(2000);

    const input = recoverFromAccidentalDeletionInput.parse({ incidentId: `DEMO-${Date.now().toString(36).toUpperCase()}`, startedBy: 'alice', mode: 'drill', targetTime, declaredAt: new Date().toISOString() });
    const handle = await startRunbook(client, { workflowType: 'recoverFromAccidentalDeletion', scenario: 'accidental-deletion', input, taskQueue });
    log(`runbook recoverFromAccidentalDeletion started in drill mode (${handle.workflowId}), target ${targetTime}`);
    const runUrl = `${stack.temporal.uiUrl}/namespaces/${stack.temporal.namespace}/workflows/${handle.workflowId}/${(await handle.describe()).runId}/history`;
    log(`follow it in the Web UI: ${runUrl}`);

    let shown = 0;
    for (;;) {
      const status = await handle.query(statusQuery);
      for (const entry of status.timeline.slice(shown)) if (entry.endedAt) { log(`  ${entry.outcome.padEnd(9)} ${entry.step}${entry.detail ? ` — ${entry.detail}` : ''}`); shown++; } else break;
      if (status.openGates.some((g) => g.gate === 'repair')) {
        log('  gate "repair" is waiting: bob (the demo approver) approves it');
        await handle.executeUpdate(approveUpdate, { args: [{ gate: 'repair', approver: 'bob', comment: 'demo: dry-run counts match the incident' }] });
      }
      if (status.verdict) break;
      await sleep(500);
    }
    const result = (await handle.result()) as RunbookResult<{ repairPlan?: string[]; reconciliation?: string[] }>;
    const written = await writer.stop();

    // The report the runbook wrote to the object store (Markdown), as an auditor would read it.
    const reportKey = result.report && 'markdownKey' in result.report ? result.report.markdownKey : undefined;
    const report = reportKey ? await adapters.objectStore.get(reportKey) : undefined;
    console.log(`\n${report ? report.toString('utf8') : `(no report was written: ${JSON.stringify(result.report)})`}`);
    console.log(`Verdict: ${result.verdict}${result.verdictDetail ? ` (${result.verdictDetail})` : ''}`);
    console.log(`RTO: ${result.rto.elapsedSeconds} s (objective ${result.rto.objectiveSeconds} s) ${result.rto.withinObjective ? '✅' : '❌'}`);
    console.log(`RPO: ${result.rpo.achievedSeconds ?? '?'} s (objective ${result.rpo.objectiveSeconds} s) ${result.rpo.withinObjective ? '✅' : '❌'}`);
    console.log('Reconciliation of the recovered copy with the baseline taken with the backup:');
    for (const line of result.output?.reconciliation ?? ['(none)']) console.log(`  ${line}`);
    console.log('Repair that would run:');
    for (const line of result.output?.repairPlan ?? []) console.log(`  ${line}`);
    if (reportKey) console.log(`Report: ${config.objectStore!.directory}/${reportKey}`);
    console.log(`Steady writer: ${written.inserted} transactions written during the drill`);
    const history = await handle.fetchHistory();
    console.log(`History: ${history.events?.length ?? 0} events for this run`);
    if (recordHistoryTo) console.log(`Recorded the history (${exportHistory(stack.temporal, handle.workflowId, recordHistoryTo)} events) to ${recordHistoryTo}`);
    console.log(`\nWeb UI:   ${stack.temporal.uiUrl}`);
    console.log(`This run: ${runUrl}`);
    console.log(`Temporal: ${stack.temporal.address} (namespace ${stack.temporal.namespace}, task queue ${taskQueue})`);
    await clientConnection.close();

    if (!once) {
      log('the stack stays up; press Ctrl-C to stop it');
      await running;
      return;
    }
    worker.shutdown();
    await running;
    await connection.close();
    if (result.verdict !== 'completed') return 1;
  } finally {
    await stopAll();
  }
});
