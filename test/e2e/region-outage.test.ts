import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Client as PgClient } from 'pg';
import { WorkflowFailedError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { parseDnsMapping, resolveInMapping } from '../../activities/adapters/local/dns-mapping-file';
import { startRunbook } from '../../client/runbooks';
import { createRunbookWorker } from '../../worker/worker';
import { abortUpdate, approveUpdate } from '../../workflows/messages';
import type { RunbookStatus } from '../../contracts/runbook-status';
import { recoverFromRegionOutageInput } from '../../workflows/recover-from-region-outage';
import { gateIsOpen, runbookOutcome, startScenarioStack, waitForRunbookStatus, type ScenarioStack } from '../support/scenario-stack';

// Region outage, whole runbook on the real stack: the cross-region replica exists before the outage, the
// "region" (production) goes down, the runbook promotes the replica, brings up the standby application,
// waits for bob's dns-failover approval, moves db.mita.internal and verifies the app answers from it.
let s: ScenarioStack;
before(async () => { s = await startScenarioStack({ users: 40, transactionsPerUser: 5 }); });
after(async () => { await s?.stop(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dnsTarget = () => parseDnsMapping(readFileSync(s.stack.dnsMappingFile, 'utf8')).records['db.mita.internal']?.target;
/** One payment as the app writes it: the transaction and its account's balance together (the validation checks they agree). */
async function recordPayment(db: PgClient, amount: string, description: string): Promise<string> {
  return (await db.query<{ id: string }>(`WITH t AS (INSERT INTO transactions (account_id, user_id, amount, description)
      SELECT id, user_id, $1::numeric, $2 FROM accounts ORDER BY id LIMIT 1 RETURNING id, account_id, amount),
    u AS (UPDATE accounts a SET balance = a.balance + t.amount FROM t WHERE a.id = t.account_id)
    SELECT id::text FROM t`, [amount, description])).rows[0]!.id;
}
const gateOpenOrEnded = (gate: string) => (st: RunbookStatus) => gateIsOpen(gate)(st) || st.verdict !== undefined;
const productionFingerprint = () => s.production(async (db) => (await db.query('SELECT count(*)::int n, sum(amount)::text s FROM transactions')).rows[0]);
/** The app's answer; a process just started may not listen yet, so a refused connection is retried for a while. */
async function appHealth(): Promise<{ status: number; body: { database?: { address: string } } }> {
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(`${s.stack.app!.url}/health/database`, { signal: AbortSignal.timeout(5000) });
      return { status: response.status, body: (await response.json()) as { database?: { address: string } } };
    } catch (error) {
      if (attempt >= 60) throw error;
      await sleep(250);
    }
  }
}

test('bad input from the Start Workflow form fails with InvalidInput naming the field and creates nothing', async () => {
  const before = s.instanceIds();
  for (const [raw, field] of [
    [{ incidentId: 'INC-REG-0', startedBy: 'alice', replica: 'DR Replica!' }, 'replica'],
    [{ incidentId: 'INC-REG-0', startedBy: 'alice' }, 'replica'],
    [{ incidentId: 'INC-REG-0', startedBy: 'alice', replica: 'dr-replica', dnsName: 'not a name' }, 'dnsName'],
  ] as const) {
    const handle = await s.client.workflow.start('recoverFromRegionOutage', { taskQueue: s.taskQueue, workflowId: `region-bad-${randomUUID()}`, args: [JSON.parse(JSON.stringify(raw))] });
    const error = await handle.result().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof WorkflowFailedError, `fails: ${String(error)}`);
    const cause = error.cause as { type?: string; message: string };
    assert.equal(cause.type, 'InvalidInput');
    assert.match(cause.message, new RegExp(`^${field}: `), cause.message);
  }
  assert.deepEqual(s.instanceIds(), before);
});

test('a drill promotes its own replica of production; the DR path, DNS, app and production are untouched and nothing is left', async () => {
  await s.production((db) => recordPayment(db, '5.00', 'traffic before the drill'));
  const before = { ids: s.instanceIds(), dns: dnsTarget(), data: await productionFingerprint() };
  const input = recoverFromRegionOutageInput.parse({ incidentId: 'DRILL-REG-1', startedBy: 'alice', mode: 'drill' });
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromRegionOutage', scenario: 'region-outage', input, taskQueue: s.taskQueue });
  const result = await runbookOutcome<{ promotedInstance: string }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.ok(result.timeline.some((t) => t.step === 'gate dns-failover' && t.detail?.includes('drill policy')), 'the drill policy approved the gate');
  assert.ok(result.timeline.some((t) => t.step.startsWith('promote ') && t.outcome === 'succeeded'), 'the drill replica was promoted');
  assert.ok(!result.timeline.some((t) => t.step.startsWith('switch ') || t.step.startsWith('scale up')), 'no DNS or app step in a drill');
  assert.ok(result.rpo.achievedSeconds !== undefined, `RPO measured: ${JSON.stringify(result.rpo)}`);
  assert.ok(result.rto.cutoverVerifiedAt);
  assert.notEqual(result.output?.promotedInstance, 'production');
  assert.deepEqual(s.instanceIds(), before.ids, 'the drill replica was deleted');
  assert.equal(dnsTarget(), before.dns);
  assert.deepEqual(await productionFingerprint(), before.data);
});

test('a drill aborted at its gate (drill policy off) leaves no instance behind', async () => {
  await s.production((db) => recordPayment(db, '6.00', 'traffic before the drill'));
  const before = { ids: s.instanceIds(), dns: dnsTarget() };
  const connection = await NativeConnection.connect({ address: s.stack.temporal.address });
  const taskQueue = `region-drill-${randomUUID()}`;
  const config = { ...s.config, approvals: { ...s.config.approvals, drill: { autoApprove: false } } };
  const { worker, run } = await createRunbookWorker({ connection, namespace: s.stack.temporal.namespace, taskQueue, config });
  const running = run();
  try {
    const input = recoverFromRegionOutageInput.parse({ incidentId: 'DRILL-REG-2', startedBy: 'alice', mode: 'drill' });
    const handle = await startRunbook(s.client, { workflowType: 'recoverFromRegionOutage', scenario: 'region-outage', input, taskQueue });
    const waiting = await waitForRunbookStatus(s.client, handle.workflowId, gateOpenOrEnded('dns-failover'));
    assert.ok(gateIsOpen('dns-failover')(waiting), `the gate waits: ${waiting.verdictDetail}`);
    assert.equal(s.instanceIds().length, before.ids.length + 1, 'the drill replica exists while the gate waits');
    assert.ok(waiting.timeline.some((t) => t.step.startsWith('promote ') && t.outcome === 'succeeded'));
    await handle.executeUpdate(abortUpdate, { args: [{ by: 'bob', reason: 'drill window over' }] });
    const result = await runbookOutcome(s.client, handle.workflowId);
    assert.equal(result.verdict, 'aborted', result.verdictDetail);
    assert.ok(result.timeline.some((t) => t.step.startsWith('compensation: delete the drill replica') && t.outcome === 'succeeded'));
    assert.deepEqual(s.instanceIds(), before.ids);
    assert.equal(dnsTarget(), before.dns);
  } finally {
    worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
  }
});

test('a real failover while the primary still answers is refused before anything changes (no split brain)', async () => {
  // The replica the input names must exist (an unknown one is refused before anything, runbook-targets.test.ts).
  await s.platform.createReplica({ instanceId: 'dr-replica', sourceInstanceId: 'production' });
  const before = { ids: s.instanceIds(), dns: dnsTarget() };
  const input = recoverFromRegionOutageInput.parse({ incidentId: 'INC-REG-UP', startedBy: 'alice', replica: 'dr-replica' });
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromRegionOutage', scenario: 'region-outage', input, taskQueue: s.taskQueue });
  const result = await runbookOutcome(s.client, handle.workflowId);
  assert.equal(result.verdict, 'failed');
  assert.match(result.verdictDetail ?? '', /production still answers .*two writable primaries/);
  assert.ok(!result.timeline.some((t) => t.step.startsWith('promote ') || t.step.startsWith('scale up')));
  assert.deepEqual(s.instanceIds(), before.ids);
  assert.equal(dnsTarget(), before.dns);
});

test('region outage: the cross-region replica is promoted, DNS moves after bob approves, the app answers from it and takes writes', async () => {
  // Before the outage: the cross-region replica streams from production.
  const replica = await s.platform.createReplica({ instanceId: 'dr-replica', sourceInstanceId: 'production' });
  const replicaAddress = `${replica.instance.endpoint.host}:${replica.instance.endpoint.port}`;
  const lastWrite = await s.production((db) => recordPayment(db, '12.34', 'written just before the outage'));
  const replicaUrl = new URL(s.productionUrl);
  replicaUrl.port = String(replica.instance.endpoint.port);
  for (let i = 0; ; i++) {
    const c = new PgClient({ connectionString: replicaUrl.toString() });
    await c.connect();
    const seen = (await c.query('SELECT 1 FROM transactions WHERE id = $1', [lastWrite])).rowCount;
    await c.end();
    if (seen) break;
    assert.ok(i < 100, 'the replica replays the last write');
    await sleep(100);
  }
  const productionAddress = dnsTarget();
  assert.notEqual(productionAddress, replicaAddress);

  // The region goes down: its database and its application.
  await s.stack.app!.stop();
  await s.stack.production.stop('immediate');

  const input = recoverFromRegionOutageInput.parse({ incidentId: 'INC-REG-3', startedBy: 'alice', replica: 'dr-replica', healthTimeoutSeconds: 60 });
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromRegionOutage', scenario: 'region-outage', input, taskQueue: s.taskQueue });
  const waiting = await waitForRunbookStatus(s.client, handle.workflowId, gateOpenOrEnded('dns-failover'));
  assert.ok(gateIsOpen('dns-failover')(waiting), `the gate waits: ${waiting.verdictDetail}`);
  assert.ok(waiting.timeline.some((t) => t.step.startsWith('assess the primary region') && /does not answer/.test(t.detail ?? '')), 'the outage is confirmed');
  assert.ok(waiting.rpo.achievedSeconds !== undefined, 'the RPO is known before the DNS decision');
  assert.equal(dnsTarget(), productionAddress, 'DNS is not touched before the approval');
  assert.equal((await appHealth()).status, 503, 'the standby app runs, still resolving the name to the lost primary');

  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'dns-failover', approver: 'bob', comment: 'us-east-1 confirmed down' }] });
  const result = await runbookOutcome<{ promotedInstance: string; endpoint: string; dns: { previousTarget: string | null; target: string } }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.equal(result.output?.endpoint, replicaAddress);
  assert.equal(result.output?.dns.previousTarget, productionAddress);

  // DNS: the name now resolves to the promoted instance.
  assert.equal(dnsTarget(), replicaAddress);
  // The app answers through the name from the promoted instance.
  const health = await appHealth();
  assert.equal(health.status, 200);
  assert.equal(health.body.database?.address, replicaAddress);
  // A write through the application's database (the name, as the app resolves it) works, and the last write before the outage is there.
  const resolved = resolveInMapping(parseDnsMapping(readFileSync(s.stack.dnsMappingFile, 'utf8')), 'db.mita.internal')!;
  const appDbUrl = new URL(s.productionUrl);
  appDbUrl.port = String(resolved.port);
  const c = new PgClient({ connectionString: appDbUrl.toString() });
  await c.connect();
  try {
    assert.equal((await c.query('SELECT 1 FROM transactions WHERE id = $1', [lastWrite])).rowCount, 1, 'the last write before the outage survived');
    const written = await recordPayment(c, '1.00', 'first write after the failover');
    assert.equal((await c.query('SELECT 1 FROM transactions WHERE id = $1', [written])).rowCount, 1);
  } finally {
    await c.end();
  }
  // The objectives: RPO recorded within objective, RTO stopped at the verified failover, bob's approval on record.
  assert.ok(result.rpo.achievedSeconds !== undefined && result.rpo.withinObjective, `RPO: ${JSON.stringify(result.rpo)}`);
  assert.ok(result.rto.cutoverVerifiedAt);
  assert.ok(result.timeline.some((t) => t.step === 'gate dns-failover' && t.outcome === 'approved' && t.detail?.includes('bob')));
  assert.ok(s.instanceIds().includes('dr-replica'), 'the promoted instance is the new primary: kept');
});
