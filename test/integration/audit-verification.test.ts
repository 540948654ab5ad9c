import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client as PgClient } from 'pg';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { chainAuditRows, GENESIS_HASH } from '../../activities/audit-hash';
import { auditHeadSigner } from '../../activities/audit-heads';
import { createConsoleNotifier } from '../../activities/adapters/local/console-notifier';
import { startRunbook } from '../../client/runbooks';
import { loadWorkerConfig, type WorkerConfig } from '../../worker/config';
import { createAdapters } from '../../worker/adapters';
import { createDatabaseConnections } from '../../worker/database-connections';
import { createRunbookWorker } from '../../worker/worker';
import { approveUpdate } from '../../workflows/messages';
import { fixtureRunbookInput } from '../fixtures/workflows';
import { fixtureActivities, fixtureBundle, fixtureInput, gateOpen, newRecorder, waitForStatus } from '../support/fixture-runbook';
import { startTestStack } from '../support/stack';

// An audit trail that resists its own database's superuser (issue 11): every write publishes the trail's
// head, signed with the worker's Ed25519 key from the secret store, to the object store. `dr audit verify`
// and the scheduled verification (which alerts) then see an edited row, a chain recomputed after an edit
// and deleted last rows, and pass an untouched trail. The attacker is the control cluster's superuser.
const root = path.join(__dirname, '..', '..');
let stack: Awaited<ReturnType<typeof startTestStack>>;
let config: WorkerConfig;
let databases: ReturnType<typeof createDatabaseConnections>;
let connection: NativeConnection;
const workers: Array<{ shutdown(): void; done: Promise<void> }> = [];
const fixtureQueue = 'audit-fixture';
const runbookQueue = 'audit-runbooks';
const alerts: string[] = [];
const consoleLog = console.log;

before(async () => {
  stack = await startTestStack();
  config = loadWorkerConfig(stack.configFile);
  const adapters = createAdapters(config);
  databases = createDatabaseConnections(config, adapters.secrets);
  const heads = { store: adapters.objectStore, signer: auditHeadSigner(config.audit!.headSigning!.kind, config.audit!.headSigning!.keySecret, adapters.secrets) };
  const real = createActivities({ databases, auditDatabase: config.audit!.database, auditHeads: heads, runbookPlan: config, notifier: createConsoleNotifier(() => undefined), objectStore: adapters.objectStore });
  const { doWork, undoWork, readNewestCommit } = fixtureActivities(newRecorder());
  connection = await NativeConnection.connect({ address: stack.temporal.address });
  clientConnection = await Connection.connect({ address: stack.temporal.address });
  client = new Client({ connection: clientConnection, namespace: stack.temporal.namespace });
  const fixture = await Worker.create({ connection, namespace: stack.temporal.namespace, taskQueue: fixtureQueue, workflowBundle: await fixtureBundle(), activities: { ...real, doWork, undoWork, readNewestCommit } });
  workers.push({ shutdown: () => fixture.shutdown(), done: fixture.run() });
  // The real worker, whose console notifier is where the scheduled verification's alert shows.
  console.log = (...args: unknown[]) => (String(args[0]).startsWith('[dr-notify] AUDIT ALERT') ? void alerts.push(String(args[0])) : consoleLog(...args));
  const runbooks = await createRunbookWorker({ connection, namespace: stack.temporal.namespace, taskQueue: runbookQueue, config });
  workers.push({ shutdown: () => runbooks.worker.shutdown(), done: runbooks.run() });
});

after(async () => {
  console.log = consoleLog;
  for (const w of workers) w.shutdown();
  await Promise.allSettled(workers.map((w) => w.done));
  await connection?.close();
  await clientConnection?.close();
  await databases?.close();
  await stack?.stop();
});

function dr(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(root, 'client', 'bin', 'dr.js'), ...args], {
      cwd: root, timeout: 60_000,
      env: { ...process.env, TEMPORAL_ADDRESS: stack.temporal.address, TEMPORAL_NAMESPACE: stack.temporal.namespace, DR_TASK_QUEUE: runbookQueue },
    }, (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** A completed runbook's trail, written through the real audit activities. */
async function trail(incident: string): Promise<string> {
  const handle = await startRunbook(connectionClient(), { workflowType: 'fixtureRunbook', scenario: 'fixture', input: fixtureRunbookInput.parse(fixtureInput({ incidentId: incident })), taskQueue: fixtureQueue });
  await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'alice' }] });
  await handle.result();
  return handle.workflowId;
}

let clientConnection: Connection;
let client: Client;
const connectionClient = () => client;

/** The attacker: the control database's superuser, trigger off. */
async function asSuperuser(fn: (db: PgClient) => Promise<void>): Promise<void> {
  const db = new PgClient({ connectionString: stack.control.url('dr_audit') });
  await db.connect();
  try {
    await db.query('ALTER TABLE dr_audit_log DISABLE TRIGGER dr_audit_log_append_only');
    await fn(db);
    await db.query('ALTER TABLE dr_audit_log ENABLE TRIGGER dr_audit_log_append_only');
  } finally {
    await db.end();
  }
}

test('dr audit verify passes an untouched trail and names an edited row, a recomputed chain and a deleted tail; the scheduled verification alerts', { timeout: 240_000 }, async () => {
  const [untouched, edited, recomputed, cut] = [await trail('INC-AUD-1'), await trail('INC-AUD-2'), await trail('INC-AUD-3'), await trail('INC-AUD-4')];

  const ok = await dr('audit', 'verify', untouched);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`^audit trail of ${untouched}: VERIFIED \\(\\d+ row\\(s\\), signed head at seq \\d+ \\(.*, key ed25519:\\S+\\)\\)$`, 'm'));

  // An approval rewritten to name someone else.
  await asSuperuser((db) => db.query(`UPDATE dr_audit_log SET actor = 'mallory' WHERE workflow_id = $1 AND action = 'gate-approved'`, [edited]).then(() => undefined));
  // The same edit, then the whole chain recomputed so every hash and link fits again.
  await asSuperuser(async (db) => {
    await db.query(`UPDATE dr_audit_log SET actor = 'mallory' WHERE workflow_id = $1 AND action = 'gate-approved'`, [recomputed]);
    const { rows } = await db.query<{ seq: number; at: string; actor: string; action: string; detail: Record<string, unknown> }>(
      `SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, actor, action, detail FROM dr_audit_log WHERE workflow_id = $1 ORDER BY seq`, [recomputed]);
    for (const row of chainAuditRows(GENESIS_HASH, rows.map((r) => ({ workflowId: recomputed, ...r })))) {
      await db.query('UPDATE dr_audit_log SET prev_hash = $3, hash = $4 WHERE workflow_id = $1 AND seq = $2', [recomputed, row.seq, row.prevHash, row.hash]);
    }
  });
  // The last two rows (the end of the runbook) deleted.
  await asSuperuser((db) => db.query(`DELETE FROM dr_audit_log WHERE workflow_id = $1 AND seq > (SELECT max(seq) - 2 FROM dr_audit_log WHERE workflow_id = $1)`, [cut]).then(() => undefined));

  for (const [workflowId, problem] of [[edited, /seq \d+: edited: its content no longer matches its hash/], [recomputed, /seq \d+: rewritten: seq \d+ hashes to \S+, the signed head says \S+: rows were edited and the chain recomputed/], [cut, /seq \d+: deleted-tail: the signed head is at seq \d+ .*2 row\(s\) at the end were deleted/]] as const) {
    const run = await dr('audit', 'verify', workflowId);
    assert.equal(run.code, 1, `${workflowId}: ${run.stdout}`);
    assert.match(run.stdout, new RegExp(`^audit trail of ${workflowId}: FAILS VERIFICATION`, 'm'));
    assert.match(run.stdout, problem);
    assert.match(run.stderr, /^dr: the audit trail of \S+ fails verification/);
  }

  // The scheduled verification of every trail: it fails (the schedule shows it) and alerts, naming the three.
  const scheduled = await dr('audit', 'schedule', '--cron', '0 3 1 1 *');
  assert.equal(scheduled.code, 0, scheduled.stderr);
  const schedule = connectionClient().schedule.getHandle('dr-audit-verification');
  await schedule.trigger();
  let runId: string | undefined;
  for (let i = 0; i < 100 && !runId; i++) {
    runId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
    if (!runId) await new Promise((r) => setTimeout(r, 200));
  }
  const failure = await connectionClient().workflow.getHandle(runId!).result().then(() => undefined, (e: { cause?: { type?: string; message?: string } }) => e.cause);
  assert.equal(failure?.type, 'AuditTrailTampered');
  assert.match(failure!.message!, /3 of \d+ audit trail\(s\) fail verification/);
  for (const id of [edited, recomputed, cut]) assert.ok(alerts.some((a) => a.includes(id)), `alerted: ${id} in ${alerts.join('\n')}`);
  assert.ok(!alerts.some((a) => a.includes(untouched)), 'the untouched trail is not in the alert');
  await dr('audit', 'unschedule');
});
