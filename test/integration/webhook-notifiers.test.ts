import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NotificationDeliveryError, type DeliveryDependencies } from '../../activities/adapters/webhooks/delivery';
import { createPagerDutyNotifier, pagerDutyDedupKey } from '../../activities/adapters/webhooks/pagerduty';
import { createSignedWebhookNotifier } from '../../activities/adapters/webhooks/signed-webhook';
import { createSlackNotifier } from '../../activities/adapters/webhooks/slack';
import { createStatuspageNotifier } from '../../activities/adapters/webhooks/statuspage';
import { createSecretsDirectory } from '../../activities/adapters/local/secrets-directory';
import { sendTo, type Notifier } from '../../activities/ports/notifier';
import type { SecretStore } from '../../activities/ports/secret-store';
import type { Notification, RunbookNotification, RunbookRef } from '../../contracts/notifications';
import { verifyWebhookSignature } from '../../lib/webhook-signature';
import { createNotifier } from '../../worker/adapters';
import { workerConfigSchema } from '../../worker/config';
import { NotificationChannelsError } from '../../worker/notification-channels';
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from '../support/webhook-receiver';

// Each notifier against the local receiver that checks what Slack, PagerDuty and Statuspage document
// (test/support/webhook-shapes.ts) and our signature scheme: a payload the real service would refuse
// fails here.

const routingKey = `R${randomBytes(16).toString('hex').slice(0, 31)}`;
const statuspageKey = `sp-${randomBytes(12).toString('hex')}`;
const slackToken = `xSecretToken${randomBytes(8).toString('hex')}`;
const fast: DeliveryDependencies = { policy: { attempts: 3, initialBackoffMs: 5, maxBackoffMs: 20, requestTimeoutMs: 2_000, budgetMs: 8_000 } };
const messages = { application: 'MITA', webUiUrl: 'http://127.0.0.1:8233', namespace: 'default' };

let receiver: WebhookReceiver;
let secretsDir: string;
let secrets: SecretStore;
let slackUrl: (room: string) => string;
let signingSecret: string;

before(async () => {
  receiver = await startWebhookReceiver({ pagerdutyRoutingKey: routingKey, statuspageApiKey: statuspageKey, statuspagePageId: 'pg1' });
  signingSecret = receiver.signingSecret;
  slackUrl = (room) => `${receiver.url}/slack/services/T0DR/${room}/${slackToken}`;
  secretsDir = mkdtempSync(path.join(os.tmpdir(), 'dr-notifier-secrets-'));
  const files: Record<string, string> = {
    'slack-incidents-webhook': slackUrl('incidents'),
    'slack-leadership-webhook': slackUrl('leadership'),
    'pagerduty-dr': routingKey,
    'statuspage-key': statuspageKey,
    'dr-webhook-signing': signingSecret,
  };
  for (const [name, value] of Object.entries(files)) writeFileSync(path.join(secretsDir, name), `${value}\n`);
  secrets = createSecretsDirectory(secretsDir);
});
after(async () => {
  await receiver.close();
  rmSync(secretsDir, { recursive: true, force: true });
});

let runs = 0;
const newRun = (overrides: Partial<RunbookRef> = {}): RunbookRef => ({ workflowId: `server-failure-INC-${2040 + ++runs}-${randomBytes(4).toString('hex')}`, scenario: 'server-failure', environment: 'production', incidentId: `INC-${2040 + runs}`, mode: 'real', ...overrides });
const lifecycle = (runbook: RunbookRef): RunbookNotification[] => [
  { kind: 'incident-opened', runbook, startedBy: 'carol', etaAt: '2026-11-23T04:12:00Z', nextUpdateAt: '2026-11-23T03:42:00Z' },
  { kind: 'approval-needed', runbook, gate: 'cutover', approvers: ['alice', 'bob', 'carol'], quorum: 2, deadlineAt: '2026-11-23T05:00:00Z', stillMayApprove: ['alice', 'bob'] },
  { kind: 'escalation', runbook, gate: 'cutover', audience: 'management', waitingSince: '2026-11-23T03:20:00Z', deadlineAt: '2026-11-23T05:00:00Z' },
  { kind: 'gate-decided', runbook, gate: 'cutover', decision: 'approved', decidedBy: ['alice', 'bob'], comment: 'validation green' },
  { kind: 'status-update', runbook, status: 'monitoring', currentStep: 'post-recovery checks', nextUpdateAt: '2026-11-23T04:12:00Z', elapsedSeconds: 2400 },
  { kind: 'resolved', runbook, verdict: 'completed', resolution: 'Promoted the standby and cut the application over.', downtimeSeconds: 2472, rtoObjectiveSeconds: 3600, dataLossSeconds: 0, rpoObjectiveSeconds: 900 },
];
const sendAll = async (notifier: Notifier, notifications: Notification[]) => {
  for (const n of notifications) await sendTo(notifier, n);
};
const requestsFor = (workflowId: string, target: ReceivedRequest['target']) => receiver.requests.filter((r) => r.target === target && r.body.includes(workflowId));
const assertDocumented = (requests: ReceivedRequest[]) => {
  assert.ok(requests.length > 0, 'no request arrived');
  for (const r of requests) {
    assert.deepEqual(r.problems, [], `${r.method} ${r.path}`);
    assert.deepEqual(r.warnings, [], `${r.method} ${r.path}`);
    assert.ok(r.status >= 200 && r.status < 300, `${r.method} ${r.path} → ${r.status}`);
  }
};

describe('Slack incoming webhook', () => {
  const slack = () => createSlackNotifier({ name: 'incidents', webhookUrlSecret: 'slack-incidents-webhook', channel: '#incidents', secrets, messages, delivery: fast });

  test('every kind is a Block Kit message Slack accepts, with a plain text fallback', async () => {
    const runbook = newRun();
    await sendAll(slack(), lifecycle(runbook));
    const posted = requestsFor(runbook.workflowId, 'slack');
    assert.equal(posted.length, 6);
    assertDocumented(posted);
    const bodies = posted.map((r) => r.json as { text: string; channel: string; blocks: Array<{ type: string; text?: { text: string } }> });
    assert.deepEqual(bodies.map((b) => b.blocks[0]!.text!.text), [
      '[CRITICAL] MITA Database Incident - Response In Progress',
      '[CRITICAL] MITA Database Incident - Approval Needed: gate cutover',
      '[CRITICAL] MITA Database Incident - Escalated to management',
      '[CRITICAL] MITA Database Incident - Gate cutover Approved',
      '[CRITICAL] MITA Database Incident - Response In Progress',
      '[RESOLVED] MITA Database Incident Resolved',
    ]);
    assert.ok(bodies.every((b) => b.channel === '#incidents' && b.text.startsWith(b.blocks[0]!.text!.text)));
    assert.match(bodies[0]!.text, /Status: Investigating\nImpact: Critical - Complete service outage\nETA for Resolution: 2026-11-23 04:12 UTC\nNext Update: 2026-11-23 03:42 UTC/);
    assert.match(bodies[5]!.text, /Total Downtime: 41 min 12 s \(objective 1 h: met\)\nData Loss: None/);
  });

  test('approval needed: the gate, who may approve, the dr approve line and the Web UI signal input, escaped for mrkdwn', async () => {
    const runbook = newRun();
    await sendTo(slack(), lifecycle(runbook)[1]!);
    const [request] = requestsFor(runbook.workflowId, 'slack');
    const blocks = JSON.stringify((request!.json as { blocks: unknown }).blocks);
    assert.ok(blocks.includes('alice, bob (2 approvals needed; listed: alice, bob, carol)'));
    assert.ok(blocks.includes(`npx dr approve ${runbook.workflowId} --gate cutover --as &lt;your-name&gt; --comment \\"&lt;why&gt;\\"`));
    assert.ok(blocks.includes('{\\"gate\\":\\"cutover\\",\\"approver\\":\\"&lt;your-name&gt;\\",\\"comment\\":\\"&lt;why&gt;\\"}'));
    assert.ok(blocks.includes('More Actions → Send a Signal'));
    assert.match((request!.json as { text: string }).text, /\nApprove: npx dr approve \S+ --gate cutover --as <your-name>/);
    assert.ok(blocks.includes(`"url":"http://127.0.0.1:8233/namespaces/default/workflows/${runbook.workflowId}"`));
  });

  test('a drill is marked in the header and in its own line', async () => {
    const runbook = newRun({ mode: 'drill' });
    await sendTo(slack(), lifecycle(runbook)[0]!);
    const [request] = requestsFor(runbook.workflowId, 'slack');
    assertDocumented([request!]);
    const { blocks } = request!.json as { blocks: Array<{ type: string; text?: { text: string }; elements?: Array<{ text: string }> }> };
    assert.equal(blocks[0]!.text!.text, '[DRILL] [CRITICAL] MITA Database Incident - Response In Progress');
    assert.equal(blocks[1]!.elements![0]!.text, ':test_tube: *DRILL*: a rehearsal of the runbook; production is not changed.');
  });
});

describe('PagerDuty Events API v2', () => {
  const pagerduty = (extra: { drills?: boolean } = {}) => createPagerDutyNotifier({ name: 'oncall', routingKeySecret: 'pagerduty-dr', eventsUrl: receiver.urls.pagerduty, secrets, messages, delivery: fast, ...extra });

  test('one alert per run: triggered when opened, updated, acknowledged when a person decides, resolved on completion', async () => {
    const runbook = newRun();
    await sendAll(pagerduty(), lifecycle(runbook));
    const dedupKey = pagerDutyDedupKey(runbook.workflowId);
    const events = receiver.requests.filter((r) => r.target === 'pagerduty' && (r.json as { dedup_key?: string }).dedup_key === dedupKey);
    assertDocumented(events);
    assert.deepEqual(receiver.pagerdutyAlerts.get(dedupKey)?.actions, ['trigger', 'trigger', 'trigger', 'acknowledge', 'trigger', 'resolve']);
    const opened = events[0]!.json as { payload: { summary: string; source: string; severity: string; component: string; group: string; class: string; custom_details: Record<string, string> }; client_url: string };
    assert.equal(opened.payload.summary, `[CRITICAL] MITA Database Incident - Response In Progress (server-failure, ${runbook.incidentId}, production)`);
    assert.deepEqual([opened.payload.source, opened.payload.severity, opened.payload.component, opened.payload.group, opened.payload.class], ['dr-runbooks/production', 'critical', 'database', 'production', 'server-failure']);
    assert.equal(opened.payload.custom_details.workflow, runbook.workflowId);
    assert.equal(opened.payload.custom_details.status, 'Investigating');
    assert.equal(opened.payload.custom_details.started_by, 'carol');
    assert.equal(opened.client_url, `http://127.0.0.1:8233/namespaces/default/workflows/${runbook.workflowId}`);
    const approval = events[1]!.json as { payload: { custom_details: Record<string, string> } };
    assert.match(approval.payload.custom_details.approve_command!, /^npx dr approve .* --gate cutover --as <your-name>/);
    assert.equal(dedupKey, `dr-runbooks/${runbook.workflowId}`);
  });

  test('severity from the scenario: a failed migration is "error" (the plan calls it High), unless config says otherwise', async () => {
    const runbook = newRun({ scenario: 'failed-migration' });
    await sendTo(pagerduty(), lifecycle(runbook)[0]!);
    assert.equal(receiver.pagerdutyAlerts.get(pagerDutyDedupKey(runbook.workflowId))?.severity, 'error');
    const overridden = newRun({ scenario: 'failed-migration' });
    await sendTo(createPagerDutyNotifier({ name: 'oncall', routingKeySecret: 'pagerduty-dr', eventsUrl: receiver.urls.pagerduty, severity: { 'failed-migration': 'warning' }, secrets, messages, delivery: fast }), lifecycle(overridden)[0]!);
    assert.equal(receiver.pagerdutyAlerts.get(pagerDutyDedupKey(overridden.workflowId))?.severity, 'warning');
  });

  test('a drill does not page unless asked, and then at severity info', async () => {
    const quiet = newRun({ mode: 'drill' });
    await sendAll(pagerduty(), lifecycle(quiet));
    assert.equal(requestsFor(quiet.workflowId, 'pagerduty').length, 0);
    const rehearsed = newRun({ mode: 'drill' });
    await sendTo(pagerduty({ drills: true }), lifecycle(rehearsed)[0]!);
    const alert = receiver.pagerdutyAlerts.get(pagerDutyDedupKey(rehearsed.workflowId));
    assert.equal(alert?.severity, 'info');
    assert.match(alert!.summary!, /^\[DRILL\] /);
  });

  test('a runbook that ended without completing leaves the alert open, critical, saying a person is needed', async () => {
    const runbook = newRun({ scenario: 'accidental-deletion' });
    const notifier = pagerduty();
    await sendTo(notifier, lifecycle(runbook)[0]!);
    await sendTo(notifier, { kind: 'resolved', runbook, verdict: 'failed', detail: 'restore failed: stanza missing' });
    const alert = receiver.pagerdutyAlerts.get(pagerDutyDedupKey(runbook.workflowId))!;
    assert.deepEqual(alert.actions, ['trigger', 'trigger']);
    assert.equal(alert.state, 'trigger');
    assert.equal(alert.severity, 'critical');
    assert.match(alert.summary!, /Recovery Runbook Ended failed: Manual Response Needed/);
  });
});

describe('Atlassian Statuspage', () => {
  const statuspage = () => createStatuspageNotifier({ name: 'status', pageId: 'pg1', apiKeySecret: 'statuspage-key', apiUrl: receiver.url, customerFacingScenarios: ['server-failure', 'region-outage'], components: ['cmp1'], secrets, messages, delivery: fast });
  const incidentOf = (workflowId: string) => [...receiver.statuspageIncidents.values()].filter((i) => (i.metadata?.dr_runbooks as { workflow_id?: string } | undefined)?.workflow_id === workflowId);

  test('a customer-facing incident: created investigating with its impact, updated with each status update, resolved with downtime and data loss', async () => {
    const runbook = newRun();
    const notifier = statuspage();
    const [opened, , , , , resolved] = lifecycle(runbook);
    await sendTo(notifier, opened!);
    await sendTo(notifier, { kind: 'status-update', runbook, status: 'identified', nextUpdateAt: '2026-11-23T04:12:00Z' });
    await sendTo(notifier, lifecycle(runbook)[4]!);
    await sendTo(notifier, resolved!);
    assertDocumented(receiver.requests.filter((r) => r.target === 'statuspage' && r.method !== 'GET' && r.body.includes(runbook.workflowId)));
    const [incident, ...others] = incidentOf(runbook.workflowId);
    assert.equal(others.length, 0);
    assert.equal(incident!.name, 'MITA Database Incident');
    assert.equal(incident!.status, 'resolved');
    assert.equal(incident!.impact, 'critical');
    assert.deepEqual(incident!.components, { cmp1: 'operational' });
    assert.deepEqual(incident!.updates.map((u) => u.status), ['investigating', 'identified', 'monitoring', 'resolved']);
    assert.match(incident!.updates[0]!.body!, /^We are currently experiencing a database incident affecting the MITA application\.\n\nStatus: Investigating\nImpact: Critical - Complete service outage\n/);
    assert.match(incident!.updates[3]!.body!, /Total Downtime: 41 min 12 s \(objective 1 h: met\)\nData Loss: None \(objective 15 min\)/);
    for (const update of incident!.updates) assert.doesNotMatch(update.body!, new RegExp(`${runbook.incidentId}|${runbook.workflowId}|post-recovery checks|DRILL`));
  });

  test('a restarted worker (nothing in memory) finds the incident by its metadata: a repeated "opened" creates nothing, the update lands on it', async () => {
    const runbook = newRun({ scenario: 'region-outage' });
    await sendTo(statuspage(), lifecycle(runbook)[0]!);
    const restarted = statuspage();
    await sendTo(restarted, lifecycle(runbook)[0]!);
    await sendTo(restarted, { kind: 'status-update', runbook, status: 'identified', nextUpdateAt: '2026-11-23T04:12:00Z' });
    const creates = receiver.requests.filter((r) => r.target === 'statuspage' && r.method === 'POST' && r.body.includes(runbook.workflowId));
    assert.equal(creates.length, 1);
    const [incident, ...others] = incidentOf(runbook.workflowId);
    assert.equal(others.length, 0);
    assert.deepEqual(incident!.updates.map((u) => u.status), ['investigating', 'identified']);
    assert.ok(receiver.requests.some((r) => r.target === 'statuspage' && r.method === 'GET' && r.path === '/v1/pages/pg1/incidents/unresolved' && r.status === 200));
  });

  test('a runbook that did not complete keeps the public incident open', async () => {
    const runbook = newRun();
    const notifier = statuspage();
    await sendTo(notifier, lifecycle(runbook)[0]!);
    await sendTo(notifier, { kind: 'resolved', runbook, verdict: 'aborted', detail: 'aborted by alice: wrong incident' });
    const [incident] = incidentOf(runbook.workflowId);
    assert.equal(incident!.status, 'identified');
    assert.deepEqual(incident!.components, { cmp1: 'major_outage' });
  });

  test('not customer-facing, a drill, an approval, a decision or an escalation: nothing reaches the page', async () => {
    const before = receiver.requests.filter((r) => r.target === 'statuspage').length;
    const notifier = statuspage();
    await sendAll(notifier, lifecycle(newRun({ scenario: 'accidental-deletion' })));
    await sendAll(notifier, lifecycle(newRun({ mode: 'drill' })));
    const internal = lifecycle(newRun());
    await sendAll(notifier, [internal[1]!, internal[2]!, internal[3]!]);
    assert.equal(receiver.requests.filter((r) => r.target === 'statuspage').length, before);
  });
});

describe('signed generic webhook', () => {
  const webhook = () => createSignedWebhookNotifier({ name: 'audit', url: `${receiver.urls.webhook}/dr`, signingSecret: 'dr-webhook-signing', secrets, messages, delivery: fast });

  test('signed per lib/webhook-signature.ts with its event; a retry carries the same delivery id; another worker sending it again is a duplicate', async () => {
    const runbook = newRun();
    const opened = lifecycle(runbook)[0]!;
    receiver.failNext('webhook', 1);
    await sendTo(webhook(), opened);
    const [first, retry] = requestsFor(runbook.workflowId, 'webhook');
    assert.equal(first!.injectedFailure, true);
    assert.deepEqual(first!.problems, []);
    assertDocumented([retry!]);
    assert.equal(retry!.headers['x-dr-delivery'], first!.headers['x-dr-delivery']);
    assert.equal(retry!.headers['x-dr-event'], 'incident.opened');
    assert.ok(verifyWebhookSignature(retry!.headers['x-dr-signature'] as string, retry!.body, signingSecret, Math.floor(Date.now() / 1000)).ok);
    const body = retry!.json as { id: string; event: string; notification: Notification; message: { subject: string; text: string } };
    assert.equal(body.id, retry!.headers['x-dr-delivery']);
    assert.deepEqual(body.notification, opened);
    assert.equal(body.message.subject, '[CRITICAL] MITA Database Incident - Response In Progress');
    assert.equal(retry!.duplicateDelivery, false);
    await sendTo(webhook(), opened);
    assert.equal(requestsFor(runbook.workflowId, 'webhook').at(-1)!.duplicateDelivery, true);
  });

  test('every kind has its event; a runbook that did not complete is runbook.ended, not incident.resolved', async () => {
    const runbook = newRun();
    await sendAll(webhook(), [...lifecycle(runbook), { kind: 'resolved', runbook, verdict: 'approval-timed-out' }]);
    const delivered = requestsFor(runbook.workflowId, 'webhook');
    assertDocumented(delivered);
    assert.deepEqual(delivered.map((r) => r.headers['x-dr-event']), ['incident.opened', 'approval.needed', 'incident.escalated', 'gate.decided', 'incident.updated', 'incident.resolved', 'runbook.ended']);
  });
});

describe('delivery: retries, Retry-After, timeouts', () => {
  const slackWith = (delivery: DeliveryDependencies) => createSlackNotifier({ name: 'incidents', webhookUrlSecret: 'slack-incidents-webhook', secrets, messages, delivery });

  test('retries succeed after failures, waiting as long as Retry-After asks', async () => {
    const runbook = newRun();
    const waits: number[] = [];
    receiver.failNext('slack', 2, { status: 429, retryAfterSeconds: 2 });
    await sendTo(slackWith({ ...fast, policy: { ...fast.policy, budgetMs: 20_000 }, sleep: async (ms) => { waits.push(ms); } }), lifecycle(runbook)[0]!);
    const tries = requestsFor(runbook.workflowId, 'slack');
    assert.deepEqual(tries.map((r) => r.status), [429, 429, 200]);
    assert.equal(waits.length, 2);
    assert.ok(waits.every((ms) => ms >= 2_000), `waited ${waits.join(', ')} ms`);
  });

  test('a Retry-After longer than the notification may wait ends the delivery at once, saying so', async () => {
    const runbook = newRun();
    receiver.failNext('slack', 1, { status: 503, retryAfterSeconds: 120 });
    await assert.rejects(sendTo(slackWith(fast), lifecycle(runbook)[0]!), (error: Error) => {
      assert.match(error.message, /^slack "incidents": not delivered after 1 attempt\(s\) in \d+\.\d s: HTTP 503 .*; it asked to retry after 120 s \(Retry-After\), longer than the \d s this notification may still wait$/);
      return true;
    });
    assert.equal(requestsFor(runbook.workflowId, 'slack').length, 1);
  });

  test('a request the service refuses as wrong is not retried', async () => {
    const runbook = newRun();
    receiver.failNext('slack', 1, { status: 400, body: 'invalid_blocks' });
    await assert.rejects(sendTo(slackWith(fast), lifecycle(runbook)[0]!), (error: NotificationDeliveryError) => {
      assert.equal(error.permanent, true);
      assert.equal(error.status, 400);
      assert.match(error.message, /^slack "incidents": refused with HTTP 400 Bad Request: invalid_blocks \(not retried/);
      return true;
    });
    assert.equal(requestsFor(runbook.workflowId, 'slack').length, 1);
  });

  test('a service that never answers is given up per request and retried, then fails naming the timeout', async () => {
    const held: http.ServerResponse[] = [];
    const silent = http.createServer((_req, res) => { held.push(res); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}/webhook`;
      const notifier = createSignedWebhookNotifier({ name: 'archive', url, signingSecret: 'dr-webhook-signing', secrets, messages, delivery: { policy: { attempts: 2, initialBackoffMs: 5, maxBackoffMs: 5, requestTimeoutMs: 200, budgetMs: 5_000 } } });
      await assert.rejects(sendTo(notifier, lifecycle(newRun())[0]!), (error: Error) => {
        assert.match(error.message, /^webhook "archive": not delivered after 2 attempt\(s\) in \d+\.\d s: no answer within 0\.2 s$/);
        return true;
      });
      assert.equal(held.length, 2);
    } finally {
      for (const res of held) res.destroy();
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

/** The worker's own wiring: config → channels → router, secrets from the secrets directory. */
function wired(notifiers: unknown[], extra: Record<string, unknown> = {}) {
  const config = workerConfigSchema.parse({ databases: {}, notifiers, messages: { application: 'MITA' }, ...extra });
  return createNotifier(config, secrets, { namespace: 'default', delivery: fast });
}

describe('the worker\'s channels together', () => {
  test('a channel that stays down fails after its retries with an error naming it, the others still receive, and a retry sends only to it', async () => {
    const down = await startWebhookReceiver();
    try {
      writeFileSync(path.join(secretsDir, 'slack-down-webhook'), `${down.url}/slack/services/T0DR/BDOWN/${slackToken}`);
      await down.goDown();
      const notifier = wired([
        { type: 'slack', name: 'incidents', webhookUrlSecret: 'slack-down-webhook', channel: '#incidents' },
        { type: 'pagerduty', name: 'oncall', routingKeySecret: 'pagerduty-dr', eventsUrl: receiver.urls.pagerduty },
        { type: 'webhook', name: 'audit', url: receiver.urls.webhook, signingSecret: 'dr-webhook-signing' },
      ]);
      const runbook = newRun();
      const opened = lifecycle(runbook)[0]!;
      await assert.rejects(sendTo(notifier, opened), (error: NotificationChannelsError) => {
        assert.ok(error instanceof NotificationChannelsError);
        assert.match(error.message, /^incident-opened: 1 of 3 channel\(s\) failed \(incidents\); delivered to oncall, audit\. slack "incidents" \(#incidents\): not delivered after 3 attempt\(s\) in \d+\.\d s: connection refused/);
        assert.deepEqual(error.failed.map((f) => f.channel), ['incidents']);
        assert.deepEqual(error.delivered, ['oncall', 'audit']);
        assert.ok(!error.message.includes(slackToken));
        return true;
      });
      assert.equal(requestsFor(runbook.workflowId, 'pagerduty').length, 1);
      assert.equal(requestsFor(runbook.workflowId, 'webhook').length, 1);

      // The notify activity retried (as Temporal does): only the channel that missed it is sent it.
      await down.comeBack();
      await sendTo(notifier, opened);
      assert.equal(down.accepted('slack').length, 1);
      assert.equal(requestsFor(runbook.workflowId, 'pagerduty').length, 1);
      assert.equal(requestsFor(runbook.workflowId, 'webhook').length, 1);
    } finally {
      await down.close();
      rmSync(path.join(secretsDir, 'slack-down-webhook'), { force: true });
    }
  });

  test('each rung of the escalation ladder reaches the channels configured for its audience, and only those', async () => {
    const notifier = wired([
      { type: 'slack', name: 'incidents', webhookUrlSecret: 'slack-incidents-webhook' },
      { type: 'slack', name: 'leadership', webhookUrlSecret: 'slack-leadership-webhook', escalationsOnly: true },
      { type: 'pagerduty', name: 'oncall', routingKeySecret: 'pagerduty-dr', eventsUrl: receiver.urls.pagerduty },
      { type: 'webhook', name: 'executive-desk', url: `${receiver.urls.webhook}/executives`, signingSecret: 'dr-webhook-signing', escalationsOnly: true },
    ], { audiences: { 'technical-team': ['incidents', 'oncall'], management: ['leadership'], executives: ['leadership', 'executive-desk'] } });
    const runbook = newRun();
    const reached = (n: Notification) => {
      const id = receiver.requests.length;
      return sendTo(notifier, n).then(() => receiver.requests.slice(id).filter((r) => r.body.includes(runbook.workflowId)).map((r) => (r.target === 'slack' ? r.path.split('/')[4] : r.target === 'webhook' ? r.path : r.target)).sort());
    };
    const escalate = (audience: string): Notification => ({ kind: 'escalation', runbook, gate: 'cutover', audience, waitingSince: '2026-11-23T03:00:00Z', deadlineAt: '2026-11-23T05:00:00Z' });
    assert.deepEqual(await reached(lifecycle(runbook)[0]!), ['incidents', 'pagerduty']);
    assert.deepEqual(await reached(escalate('technical-team')), ['incidents', 'pagerduty']);
    assert.deepEqual(await reached(escalate('management')), ['leadership']);
    assert.deepEqual(await reached(escalate('executives')), ['/webhook/executives', 'leadership']);
  });

  test('no secret in any error, even when a service echoes its own back, nor in any message', async () => {
    const notifier = wired([
      { type: 'slack', name: 'incidents', webhookUrlSecret: 'slack-incidents-webhook' },
      { type: 'pagerduty', name: 'oncall', routingKeySecret: 'pagerduty-dr', eventsUrl: receiver.urls.pagerduty },
      { type: 'statuspage', name: 'status', pageId: 'pg1', apiKeySecret: 'statuspage-key', apiUrl: receiver.url, customerFacingScenarios: ['server-failure'] },
      { type: 'webhook', name: 'audit', url: receiver.urls.webhook, signingSecret: 'dr-webhook-signing' },
    ]);
    const echoes = { slack: `no route for ${slackUrl('incidents')}`, pagerduty: `routing key ${routingKey} is throttled`, statuspage: `OAuth ${statuspageKey} hit a limit`, webhook: `signed with ${signingSecret}` };
    for (const [target, echo] of Object.entries(echoes)) receiver.failNext(target as keyof typeof echoes, 3, { status: 500, body: echo });
    const runbook = newRun();
    const error = await sendTo(notifier, lifecycle(runbook)[0]!).then(() => undefined, (e: Error) => e);
    assert.ok(error instanceof NotificationChannelsError);
    assert.equal(error.failed.length, 4, error.message);
    for (const value of [slackToken, routingKey, statuspageKey, signingSecret]) assert.ok(!error.message.includes(value), `the error shows a secret: ${error.message}`);
    for (const said of ['no route for [redacted]', 'routing key [redacted] is throttled', 'OAuth [redacted] hit a limit', 'signed with [redacted]']) assert.ok(error.message.includes(`HTTP 500 Internal Server Error: ${said}`), error.message);

    const sent = lifecycle(newRun());
    await sendAll(notifier, sent);
    const bodies = receiver.requests.filter((r) => r.body.includes(sent[0]!.runbook.workflowId)).map((r) => r.body);
    assert.ok(bodies.length >= 15);
    for (const body of bodies) for (const value of [slackToken, statuspageKey, signingSecret]) assert.ok(!body.includes(value));
  });

  test('a secret that is not set, or is not a webhook URL, is named with how to set it, without any value', async () => {
    const missing = wired([{ type: 'slack', name: 'incidents', webhookUrlSecret: 'slack-nowhere' }]);
    await assert.rejects(sendTo(missing, lifecycle(newRun())[0]!), /slack "incidents": cannot read its webhook URL: secret "slack-nowhere" is not set: export DR_SECRET_SLACK_NOWHERE or put it in /);
    writeFileSync(path.join(secretsDir, 'slack-garbled'), `hooks.slack.com/services/${slackToken}`);
    const garbled = wired([{ type: 'slack', name: 'incidents', webhookUrlSecret: 'slack-garbled' }]);
    await assert.rejects(sendTo(garbled, lifecycle(newRun())[0]!), (error: Error) => {
      assert.match(error.message, /slack "incidents": secret "slack-garbled" does not hold a URL/);
      assert.ok(!error.message.includes(slackToken));
      return true;
    });
  });
});
