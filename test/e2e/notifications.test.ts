import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Notification, NotificationOf } from '../../contracts/notifications';
import { freePort } from '../../lib/ports';
import { approveUpdate } from '../../workflows/messages';
import { gateIsOpen, runbookOutcome, startScenarioStack, startServerFailureDrill, waitForRunbookStatus, type ScenarioStack } from '../support/scenario-stack';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

// The notifications people act on, from a whole runbook on the real stack through the real adapters:
// a Slack channel that is down the whole time (nothing listens on its port) and a signed webhook that
// receives. The runbook completes; every notification Slack missed is on its timeline; the webhook got
// the opening (ETA, next update), the approval (who may still approve), the status updates while the
// gate waited, the gate decision and the end with the measured downtime and data loss.
let s: ScenarioStack;
let receiver: WebhookReceiver;
let taskQueue: string;

before(async () => {
  s = await startScenarioStack();
  receiver = await startWebhookReceiver();
  const secretsDir = path.join(s.stack.stateDir, 'secrets');
  writeFileSync(path.join(secretsDir, 'slack-incidents-webhook'), `http://127.0.0.1:${await freePort()}/services/T0000/B0000/dead\n`, { mode: 0o600 });
  writeFileSync(path.join(secretsDir, 'dr-webhook-signing'), `${receiver.signingSecret}\n`, { mode: 0o600 });
  taskQueue = await s.startWorker((c) => ({
    ...c,
    notifiers: [
      { type: 'slack', name: 'incidents', webhookUrlSecret: 'slack-incidents-webhook', channel: '#incidents' },
      { type: 'webhook', name: 'audit', url: receiver.urls.webhook, signingSecret: 'dr-webhook-signing' },
    ],
    messages: { ...c.messages, application: 'MITA', statusUpdateEvery: '2 seconds' },
    // A person decides the drill's gate, so the decision is told.
    approvals: { ...c.approvals, drill: { autoApprove: false } },
  }), { delivery: { policy: { attempts: 2, initialBackoffMs: 50, maxBackoffMs: 100, budgetMs: 3_000 } } });
});
after(async () => {
  await receiver?.close();
  await s?.stop();
});

test('a dead Slack channel never fails the runbook: it completes, each missed notification is on its timeline, and the signed webhook hears everything', async (t) => {
  const handle = await startServerFailureDrill(s, taskQueue, 'DRILL-NOTIFY-1');
  const waiting = await waitForRunbookStatus(s.client, handle.workflowId, (st) => gateIsOpen('cutover')(st) || st.verdict !== undefined);
  assert.equal(waiting.verdict, undefined, waiting.verdictDetail);
  // Long enough at the gate for a status update sent while it waits (under load, the restore itself
  // can last long enough for updates before the gate: those do not count).
  const kindOf = (r: { json?: unknown }) => (r.json as { notification?: { kind?: string } } | undefined)?.notification?.kind;
  const stepOf = (r: { json?: unknown }) => (r.json as { notification?: { currentStep?: string } } | undefined)?.notification?.currentStep;
  await receiver.waitFor((r) => r.target === 'webhook' && kindOf(r) === 'status-update' && stepOf(r)?.startsWith('waiting at gate') === true, { timeoutMs: 30_000, what: 'a status update while the gate waits' });
  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob', comment: 'drill: the restored copy checks out' }] });
  const result = await runbookOutcome(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  await receiver.waitFor((r) => r.target === 'webhook' && kindOf(r) === 'resolved', { timeoutMs: 10_000, what: 'the end' });

  const failed = result.timeline.filter((e) => e.step.startsWith('notification: ') && e.outcome === 'failed');
  for (const kind of ['incident-opened', 'approval-needed', 'status-update', 'gate-decided', 'resolved']) {
    const entry = failed.find((e) => e.step === `notification: ${kind}`);
    assert.ok(entry, `Slack's miss of ${kind} is on the timeline: ${failed.map((e) => e.step).join(', ')}`);
    assert.match(entry.detail!, /slack "incidents" \(#incidents\)/);
    assert.match(entry.detail!, /delivered to audit/);
    assert.doesNotMatch(entry.detail!, /services\/T0000/, 'the webhook URL is a secret: never in an error');
  }

  const delivered = receiver.accepted('webhook').map((r) => r.json as { notification: Notification; message: { subject: string; closing?: string } });
  assert.ok(receiver.accepted('webhook').every((r) => r.problems.length === 0));
  const kinds = delivered.map((d) => d.notification.kind);
  t.diagnostic(`webhook heard: ${kinds.join(', ')}`);
  assert.deepEqual([...new Set(kinds)].sort(), ['approval-needed', 'gate-decided', 'incident-opened', 'resolved', 'status-update']);
  assert.equal(kinds[0], 'incident-opened');
  assert.deepEqual(kinds.slice(-2), ['gate-decided', 'resolved']);
  const of = <K extends Notification['kind']>(kind: K) => delivered.filter((d) => d.notification.kind === kind) as Array<{ notification: NotificationOf<K>; message: { subject: string; closing?: string } }>;
  const opened = of('incident-opened')[0]!;
  assert.equal(opened.notification.etaAt, new Date(Date.parse(result.rto.declaredAt) + 3600_000).toISOString(), 'ETA: declared + the RTO objective');
  assert.ok(opened.notification.nextUpdateAt);
  assert.equal(opened.message.closing, 'We are actively working to resolve this issue and will provide updates every 2 seconds.');
  assert.deepEqual(of('approval-needed')[0]!.notification.stillMayApprove, ['bob', 'carol'], 'alice started it: the two-person rule');
  const update = of('status-update').find((u) => u.notification.currentStep?.startsWith('waiting at gate'))!;
  assert.ok(update, 'a status update while the gate waited');
  assert.equal(update.message.subject, '[DRILL] [CRITICAL] MITA Database Incident - Response In Progress');
  assert.equal(update.notification.status, 'identified');
  assert.equal(update.notification.currentStep, 'waiting at gate "cutover" for bob, carol');
  assert.deepEqual({ gate: of('gate-decided')[0]!.notification.gate, by: of('gate-decided')[0]!.notification.decidedBy, decision: of('gate-decided')[0]!.notification.decision }, { gate: 'cutover', by: ['bob'], decision: 'approved' });
  const end = of('resolved')[0]!;
  assert.equal(end.message.subject, '[DRILL] [RESOLVED] MITA Database Incident Resolved');
  assert.equal(end.notification.downtimeSeconds, result.rto.elapsedSeconds, 'total downtime: the measured RTO');
  assert.equal(end.notification.dataLossSeconds, result.rpo.achievedSeconds, 'data loss: the measured RPO');
  assert.deepEqual({ rto: end.notification.rtoObjectiveSeconds, rpo: end.notification.rpoObjectiveSeconds }, { rto: 3600, rpo: 900 });
  assert.ok(kinds.lastIndexOf('status-update') < kinds.indexOf('resolved'), 'no status update after the end');
});
