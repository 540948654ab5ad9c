import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startSteadyWriter } from '../../demo/steady-writer';
import { freePort } from '../../lib/ports';
import { startAlertmanager, type AlertmanagerServer } from '../../stack/alertmanager';
import { secretStoreFor } from '../../worker/adapters';
import { startAlertReceiver, type AlertReceiver } from '../../worker/alert-receiver';
import { loadWorkerConfig, type WorkerConfig } from '../../worker/config';
import { approveUpdate, statusQuery } from '../../workflows/messages';
import type { RunbookStatus } from '../../contracts/runbook-status';
import { eventually } from '../support/eventually';
import { gateIsOpen, runbookOutcome, startScenarioStack, waitForRunbookStatus, type ScenarioStack } from '../support/scenario-stack';
import { writeConfigVariant } from '../support/worker-process';

// An alert starts the runbook, for real: production (with a streaming standby) is killed, a real
// Alertmanager gets DatabaseConnectionFailure for it (as Prometheus would post it) and delivers the
// group, authenticated with a bearer token from a file, to the alert receiver; the receiver starts ONE
// recoverFromServerFailure however often Alertmanager repeats the notification, the runbook confirms
// the failure and promotes the standby and then waits at its cutover gate for a person, the resolved
// notification is noted on its timeline, and an approval finishes it.
let s: ScenarioStack;
let alertmanager: AlertmanagerServer | undefined;
let receiver: AlertReceiver | undefined;
let config: WorkerConfig;
const token = randomBytes(24).toString('base64url');
const receiverLog: string[] = [];

before(async () => {
  s = await startScenarioStack();
  await s.platform.createReplica({ instanceId: 'standby', sourceInstanceId: 'production' });
  writeFileSync(path.join(s.stack.stateDir, 'secrets', 'alertmanager-receiver-token'), `${token}\n`, { mode: 0o600 });
  config = loadWorkerConfig(writeConfigVariant(s.stack.configFile, 'dr-config-alerts', {
    alerts: {
      receiver: { listen: `127.0.0.1:${await freePort()}`, auth: { bearerTokenSecret: 'alertmanager-receiver-token' } },
      runbooks: {
        DatabaseConnectionFailure: { start: 'server-failure', labels: { database: 'database' }, input: { replica: 'standby', checks: 2, checkIntervalSeconds: 1, checkTimeoutSeconds: 2 } },
      },
    },
  }));
  receiver = await startAlertReceiver({ client: s.client, taskQueue: s.taskQueue, config, secrets: secretStoreFor(config), log: (line) => receiverLog.push(line) });
});
after(async () => {
  await alertmanager?.stop();
  await receiver?.close();
  await s?.stop();
});

const alertLabels = { alertname: 'DatabaseConnectionFailure', environment: 'local', database: 'production', severity: 'critical', runbook: 'database-disaster-recovery.md#scenario-2', job: 'dr-worker', instance: '127.0.0.1:9464' };

/** What Prometheus does: POST the alert to Alertmanager's API (endsAt in the past resolves it). */
async function postAlert(startsAt: string, endsAt?: string): Promise<void> {
  const response = await fetch(`${alertmanager!.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ labels: alertLabels, annotations: {}, startsAt, ...(endsAt ? { endsAt } : {}), generatorURL: 'http://prometheus.test/graph' }]),
  });
  assert.equal(response.status, 200, await response.text());
}

test('the receiver refuses a request without Alertmanager\'s credentials (401, a challenge) and answers its health check', async () => {
  const post = (headers: Record<string, string>) => fetch(receiver!.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"version":"4"}' });
  const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer not-the-token' }, { authorization: `Basic ${Buffer.from(`alertmanager:${token}`).toString('base64')}` }];
  for (const headers of attempts) {
    const refused = await post(headers);
    assert.equal(refused.status, 401, JSON.stringify(headers));
    assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
  }
  const malformed = await post({ authorization: `Bearer ${token}` });
  assert.equal(malformed.status, 400, 'authenticated, but not an Alertmanager notification');
  assert.match(((await malformed.json()) as { error: string }).error, /groupKey/);
  assert.equal((await fetch(receiver!.url.replace('/alerts', '/healthz'))).status, 200);
});

test('a repeated DatabaseConnectionFailure starts exactly one recoverFromServerFailure; its gate waits for a person; the resolved notification is noted on its timeline', async (t) => {
  const writer = startSteadyWriter({ connectionString: s.productionUrl, ratePerSecond: 20, label: 'before-failure' });
  await new Promise((r) => setTimeout(r, 1500));
  await s.production((db) => db.query('SELECT pg_switch_wal()'));
  await new Promise((r) => setTimeout(r, 1500));
  await s.stack.production.stop('immediate');
  await writer.stop();

  const tokenFile = path.join(s.stack.stateDir, 'secrets', 'alertmanager-receiver-token');
  alertmanager = await startAlertmanager({ stateDir: path.join(s.stack.stateDir, 'alertmanager'), webhookUrl: receiver!.url, webhookAuth: { bearerTokenFile: tokenFile }, groupWait: '1s', groupInterval: '1s', repeatInterval: '2s' });
  const startsAt = new Date(Date.now() - 60_000).toISOString();
  await postAlert(startsAt);

  const started = await eventually('the receiver to start a runbook', 30_000, async () => receiverLog.find((l) => / firing: started /.test(l)));
  const workflowId = /started (\S+)/.exec(started)![1]!;
  assert.match(workflowId, /^alert-database-connection-failure-[0-9a-f]{16}$/);
  // Alertmanager repeats the group every 2 s while it fires: each repeat finds the runbook running.
  await eventually('three repeated notifications', 30_000, async () => (receiverLog.filter((l) => l.includes(`firing: already-running ${workflowId}`)).length >= 3 ? true : undefined));
  assert.equal(receiverLog.filter((l) => l.includes('firing: started')).length, 1, receiverLog.join('\n'));

  const waiting = await waitForRunbookStatus(s.client, workflowId, (st) => gateIsOpen('cutover')(st) || st.verdict !== undefined);
  assert.equal(waiting.verdict, undefined, `waits at the cutover gate: ${waiting.verdictDetail ?? ''}`);
  assert.equal(waiting.startedBy, 'alertmanager', 'started by the receiver\'s identity');
  assert.equal(waiting.mode, 'real');
  assert.match(waiting.incidentId, /^ALERT-\d{8}T\d{4}Z-[0-9a-f]{6}$/);
  assert.equal(waiting.rto.declaredAt, startsAt, 'the RTO clock starts when the alert started firing');
  assert.ok(waiting.timeline.some((e) => e.step === 'promote the standby standby' && e.outcome === 'succeeded'), 'the mapping\'s fixed input (replica: standby) and the label (database: production) reached the runbook');
  assert.deepEqual(waiting.openGates[0]!.stillMayApprove, ['alice', 'bob', 'carol'], 'a real gate: people decide it');

  await postAlert(startsAt, new Date().toISOString());
  const noted = await waitForRunbookStatus(s.client, workflowId, (st) => st.timeline.some((e) => e.step === 'alert DatabaseConnectionFailure resolved'), 30_000);
  const note = noted.timeline.find((e) => e.step === 'alert DatabaseConnectionFailure resolved')!;
  assert.equal(note.outcome, 'notified');
  assert.match(note.detail!, /resolved; the runbook goes on and its gates still decide \(alertname=DatabaseConnectionFailure, database=production, environment=local, ended /);
  assert.ok(gateIsOpen('cutover')(noted), 'a resolved alert decides nothing: the gate is still open');
  assert.ok(receiverLog.some((l) => l.includes(`resolved: noted ${workflowId}`)));

  const executions: string[] = [];
  for await (const w of s.client.workflow.list({ query: `WorkflowType = 'recoverFromServerFailure' AND WorkflowId = '${workflowId}'` })) executions.push(w.runId);
  assert.equal(executions.length, 1, 'exactly one recoverFromServerFailure for the alert group');

  await s.client.workflow.getHandle(workflowId).executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob', comment: 'standby validated' }] });
  const result = await runbookOutcome(s.client, workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  t.diagnostic(`alert → runbook at its gate → approved → completed; ${receiverLog.length} receiver lines`);
});

test('the same incident firing again after its runbook ended starts nothing: the old primary left down keeps firing, and nobody wants a second failover', async () => {
  const workflowId = /started (\S+)/.exec(receiverLog.find((l) => / firing: started /.test(l))!)![1]!;
  const description = await s.client.workflow.getHandle(workflowId).describe();
  assert.equal(description.status.name, 'COMPLETED');
  const startedFor = (description.memo?.alert as { occurrences: string[] }).occurrences;
  assert.equal(startedFor.length, 1);
  const status: RunbookStatus = await s.client.workflow.getHandle(workflowId).query(statusQuery);
  assert.equal(status.phase, 'finished');

  // The old primary stays down and its alert fires on: the same fingerprint, the same start (Alertmanager
  // merges it with the alert it holds).
  const before = receiverLog.length;
  const sameStart = startedFor[0]!.split('@')[1]!;
  await postAlert(sameStart);
  assert.equal((await alertmanager!.alerts(['alertname="DatabaseConnectionFailure"']))[0]?.fingerprint, startedFor[0]!.split('@')[0], 'the same alert');
  await eventually('the repeat to be answered', 30_000, async () => receiverLog.slice(before).find((l) => l.includes(`firing: already-handled ${workflowId}`)));
  assert.ok(!receiverLog.slice(before).some((l) => l.includes('firing: started')), 'no second failover for the same incident');
});
