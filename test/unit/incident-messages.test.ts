import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildIncidentMessage, formatTime } from '../../activities/adapters/webhooks/incident-message';
import { pagerDutyEvent } from '../../activities/adapters/webhooks/pagerduty';
import { webhookEventOf } from '../../activities/adapters/webhooks/signed-webhook';
import { isForStatusPage } from '../../activities/adapters/webhooks/statuspage';
import { deliveryIdOf } from '../../activities/ports/notifier';
import type { Notification, RunbookRef } from '../../contracts/notifications';
import { formatDuration } from '../../contracts/report';
import { channelsFor } from '../../worker/notification-channels';

const runbook: RunbookRef = { workflowId: 'server-failure-INC-2040-1a2b3c4d', scenario: 'server-failure', environment: 'production', incidentId: 'INC-2040', mode: 'real' };
const mita = { application: 'MITA', webUiUrl: 'http://127.0.0.1:8233/', namespace: 'default' };
const field = (n: Notification, label: string, context = mita) => buildIncidentMessage(n, context).fields.find((f) => f.label === label)?.value;

describe('the seed\'s initial incident notification', () => {
  test('renders the template line for line, with the application name from config', () => {
    const message = buildIncidentMessage({ kind: 'incident-opened', runbook, startedBy: 'carol', etaAt: '2026-11-23T04:12:00.000Z', nextUpdateAt: '2026-11-23T03:42:30.000Z' }, mita);
    assert.equal(message.subject, '[CRITICAL] MITA Database Incident - Response In Progress');
    assert.equal(message.text, [
      'Subject: [CRITICAL] MITA Database Incident - Response In Progress',
      '',
      'We are currently experiencing a database incident affecting the MITA application.',
      '',
      'Status: Investigating',
      'Impact: Critical - Complete service outage',
      'ETA for Resolution: 2026-11-23 04:12 UTC',
      'Next Update: 2026-11-23 03:42:30 UTC',
      '',
      'We are actively working to resolve this issue and will provide updates every 30 minutes.',
      '',
      'Scenario: database server failure · Incident: INC-2040 · Environment: production · Workflow: server-failure-INC-2040-1a2b3c4d · Started by: carol',
      'http://127.0.0.1:8233/namespaces/default/workflows/server-failure-INC-2040-1a2b3c4d',
    ].join('\n'));
    assert.equal(message.link, 'http://127.0.0.1:8233/namespaces/default/workflows/server-failure-INC-2040-1a2b3c4d');
  });

  test('without an ETA or next update it gives the plan\'s recovery estimate and the 30-minute cadence', () => {
    const n: Notification = { kind: 'incident-opened', runbook, startedBy: 'carol' };
    assert.equal(field(n, 'ETA for Resolution'), "30-60 minutes (the plan's estimate for a database server failure)");
    assert.equal(field(n, 'Next Update'), 'Within 30 minutes');
  });

  test('the tag follows the impact: the seed calls accidental deletion High; an explicit impact wins', () => {
    const deletion: RunbookRef = { ...runbook, scenario: 'accidental-deletion' };
    assert.equal(buildIncidentMessage({ kind: 'incident-opened', runbook: deletion, startedBy: 'carol' }).subject, '[HIGH] Database Incident - Response In Progress');
    assert.equal(field({ kind: 'incident-opened', runbook: deletion, startedBy: 'carol' }, 'Impact'), 'High - Partial data loss');
    const minor = buildIncidentMessage({ kind: 'incident-opened', runbook: deletion, startedBy: 'carol', impact: { level: 'low', summary: 'One report is stale' } }, mita);
    assert.equal(minor.subject, '[LOW] MITA Database Incident - Response In Progress');
    assert.equal(minor.fields[1]!.value, 'Low - One report is stale');
  });

  test('without an application name it says "the application", and an unknown scenario is "being assessed"', () => {
    const message = buildIncidentMessage({ kind: 'incident-opened', runbook: { ...runbook, scenario: 'cache-loss' }, startedBy: 'carol' });
    assert.equal(message.intro, 'We are currently experiencing a database incident affecting the application.');
    assert.equal(message.fields.find((f) => f.label === 'Impact')!.value, 'High - Being assessed');
    assert.equal(message.link, undefined);
  });

  test('a drill says so in the subject and the first sentence', () => {
    const message = buildIncidentMessage({ kind: 'incident-opened', runbook: { ...runbook, mode: 'drill' }, startedBy: 'drill-schedule' }, mita);
    assert.equal(message.subject, '[DRILL] [CRITICAL] MITA Database Incident - Response In Progress');
    assert.match(message.intro, /^DR drill \(production is not changed\): We are currently experiencing/);
    assert.equal(message.drill, true);
  });
});

describe('status updates every 30 minutes', () => {
  const update: Notification = { kind: 'status-update', runbook, status: 'identified', currentStep: 'restore the latest backup', nextUpdateAt: '2026-11-23T04:12:00Z', elapsedSeconds: 1830 };

  test('status, impact, ETA and next update; the step and the clock only for the people fixing it', () => {
    const message = buildIncidentMessage(update, mita);
    assert.equal(message.subject, '[CRITICAL] MITA Database Incident - Response In Progress');
    assert.deepEqual(message.fields.map((f) => [f.label, f.value, f.internal ?? false]), [
      ['Status', 'Identified', false],
      ['Impact', 'Critical - Complete service outage', false],
      ['ETA for Resolution', "30-60 minutes (the plan's estimate for a database server failure)", false],
      ['Next Update', '2026-11-23 04:12 UTC', false],
      ['Current Step', 'restore the latest backup', true],
      ['Elapsed', '30 min 30 s since the incident was declared', true],
    ]);
    assert.doesNotMatch(message.publicText, /restore the latest backup|Elapsed|INC-2040|server-failure-INC/);
    assert.match(message.publicText, /^Update on the database incident affecting the MITA application\.\n\nStatus: Identified\n/);
  });
});

describe('the seed\'s recovery complete notification', () => {
  const resolved: Notification = { kind: 'resolved', runbook, verdict: 'completed', resolution: 'Promoted the standby and cut the application over.', downtimeSeconds: 2472, rtoObjectiveSeconds: 3600, dataLossSeconds: 0, rpoObjectiveSeconds: 900, postIncidentReviewAt: '2026-11-24T15:00:00Z' };

  test('renders resolution, total downtime (the measured RTO), data loss (the measured RPO) and next steps', () => {
    const message = buildIncidentMessage(resolved, mita);
    assert.equal(message.subject, '[RESOLVED] MITA Database Incident Resolved');
    assert.equal(message.intro, 'The database incident has been resolved and all services are fully operational.');
    assert.deepEqual(message.fields.map((f) => `${f.label}: ${f.value}`), [
      'Resolution: Promoted the standby and cut the application over.',
      'Total Downtime: 41 min 12 s (objective 1 h: met)',
      'Data Loss: None (objective 15 min)',
      'Next Steps: Post-incident review scheduled for 2026-11-24 15:00 UTC',
    ]);
    assert.equal(message.closing, 'Thank you for your patience during this incident.');
  });

  test('data loss in minutes against the RPO; a missed objective says MISSED; unmeasured says so', () => {
    assert.equal(field({ ...resolved, dataLossSeconds: 184 }, 'Data Loss'), 'Up to 3 min 4 s of the most recent writes (objective 15 min: met)');
    assert.equal(field({ ...resolved, dataLossSeconds: 1200 }, 'Data Loss'), 'Up to 20 min of the most recent writes (objective 15 min: MISSED)');
    assert.equal(field({ ...resolved, downtimeSeconds: 4000 }, 'Total Downtime'), '1 h 6 min (objective 1 h: MISSED)');
    const bare: Notification = { kind: 'resolved', runbook, verdict: 'completed' };
    assert.equal(field(bare, 'Total Downtime'), 'Not measured');
    assert.equal(field(bare, 'Data Loss'), 'Not measured');
    assert.equal(field(bare, 'Resolution'), 'The database server failure recovery runbook completed.');
    assert.equal(field(bare, 'Next Steps'), 'Post-incident review to be scheduled');
  });

  test('a runbook that did not complete does not claim the incident is resolved', () => {
    const message = buildIncidentMessage({ kind: 'resolved', runbook, verdict: 'approval-rejected', detail: 'gate cutover rejected by alice' }, mita);
    assert.equal(message.subject, '[CRITICAL] MITA Database Incident - Recovery Runbook Ended approval-rejected: Manual Response Needed');
    assert.doesNotMatch(message.text, /RESOLVED|fully operational/);
    assert.match(message.intro, /The incident is not resolved/);
  });
});

describe('approval needed and escalation: who may approve and how', () => {
  const approval: Notification = { kind: 'approval-needed', runbook, gate: 'cutover', approvers: ['alice', 'bob', 'carol'], quorum: 2, deadlineAt: '2026-11-23T05:00:00Z', stillMayApprove: ['alice', 'bob'] };

  test('the gate, who may approve, the deadline, the dr approve line and the Web UI signal input', () => {
    const message = buildIncidentMessage(approval, mita);
    assert.equal(message.subject, '[CRITICAL] MITA Database Incident - Approval Needed: gate cutover');
    assert.equal(field(approval, 'Who May Approve'), 'alice, bob (2 approvals needed; listed: alice, bob, carol)');
    assert.equal(field(approval, 'Fails Closed At'), '2026-11-23 05:00 UTC if nobody decides');
    assert.equal(message.approval!.approveCommand, 'npx dr approve server-failure-INC-2040-1a2b3c4d --gate cutover --as <your-name> --comment "<why>"');
    assert.equal(message.approval!.rejectCommand, 'npx dr reject server-failure-INC-2040-1a2b3c4d --gate cutover --as <your-name> --comment "<why>"');
    assert.equal(message.approval!.signalName, 'approve');
    assert.deepEqual(JSON.parse(message.approval!.signalInput), { gate: 'cutover', approver: '<your-name>', comment: '<why>' });
    assert.match(message.text, /More Actions → Send a Signal, name "approve", input \{"gate":"cutover"/);
  });

  test('a workflow id or gate a shell would split is quoted in the command line', () => {
    const odd = buildIncidentMessage({ ...approval, runbook: { ...runbook, workflowId: "it's here" }, gate: 'dns failover' });
    assert.equal(odd.approval!.approveCommand, `npx dr approve 'it'\\''s here' --gate 'dns failover' --as <your-name> --comment "<why>"`);
  });

  test('an escalation names its audience and repeats how to approve', () => {
    const message = buildIncidentMessage({ kind: 'escalation', runbook, gate: 'cutover', audience: 'management', waitingSince: '2026-11-23T03:00:00Z', deadlineAt: '2026-11-23T05:00:00Z' }, mita);
    assert.equal(message.subject, '[CRITICAL] MITA Database Incident - Escalated to management');
    assert.match(message.intro, /^Escalated to management: gate "cutover" has waited for a decision since 2026-11-23 03:00 UTC\./);
    assert.ok(message.approval);
  });

  test('a gate decision says who decided and what happens next', () => {
    const message = buildIncidentMessage({ kind: 'gate-decided', runbook, gate: 'cutover', decision: 'approved', decidedBy: ['alice', 'bob'], comment: 'validation green' }, mita);
    assert.equal(message.subject, '[CRITICAL] MITA Database Incident - Gate cutover Approved');
    assert.equal(message.intro, 'Gate "cutover" was approved by alice, bob: the recovery continues.');
    assert.deepEqual(message.fields.map((f) => f.value), ['cutover', 'Approved', 'alice, bob', 'validation green']);
  });
});

describe('formats and identity', () => {
  test('durations and times read the same in every channel', () => {
    assert.deepEqual([0, 12, 60, 754, 3600, 3900].map(formatDuration), ['0 s', '12 s', '1 min', '12 min 34 s', '1 h', '1 h 5 min']);
    assert.equal(formatTime('2026-11-23T03:12:00+02:00'), '2026-11-23 01:12 UTC');
    assert.equal(formatTime('soon'), 'soon');
  });

  test('the delivery id is the content: key order does not change it, any field does', () => {
    const a: Notification = { kind: 'resolved', runbook, verdict: 'completed', downtimeSeconds: 10 };
    const reordered = JSON.parse('{"downtimeSeconds":10,"verdict":"completed","runbook":' + JSON.stringify(runbook) + ',"kind":"resolved"}') as Notification;
    assert.equal(deliveryIdOf(a), deliveryIdOf(reordered));
    assert.match(deliveryIdOf(a), /^resolved-[0-9a-f]{32}$/);
    assert.notEqual(deliveryIdOf(a), deliveryIdOf({ ...a, downtimeSeconds: 11 }));
    assert.notEqual(deliveryIdOf(a), deliveryIdOf({ ...a, runbook: { ...runbook, workflowId: 'other' } }));
  });
});

describe('the audit alert on every channel family', () => {
  const alert: Notification = { kind: 'audit-alert', environment: 'production', checked: 12, failed: [{ workflowId: 'server-failure-INC-1-aa', problems: ['row 4 was edited'] }] };

  test('is critical and internal: the message names each failing trail, the status page takes none of it', () => {
    const message = buildIncidentMessage(alert, mita);
    assert.equal(message.subject, '[CRITICAL] MITA DR Audit Trail - Verification Failed');
    assert.match(message.intro, /^1 of 12 audit trail\(s\) in production do not verify/);
    assert.equal(message.fields.find((f) => f.label === 'Workflow server-failure-INC-1-aa')?.value, 'row 4 was edited');
    assert.equal(message.publicText, '');
    assert.equal(isForStatusPage(alert, ['server-failure']), false);
  });

  test('pages PagerDuty once per environment at critical, and reaches the escalations-only channels too', () => {
    const event = pagerDutyEvent(alert, 'key', buildIncidentMessage(alert, mita), {});
    assert.equal(event.dedup_key, 'dr-runbooks/audit-trail/production');
    assert.equal(event.payload?.severity, 'critical');
    const channels = [{ name: 'incidents', notifier: {} as never }, { name: 'leadership', notifier: {} as never, escalationsOnly: true }];
    assert.deepEqual(channelsFor(alert, channels, { management: ['leadership'] }), ['incidents', 'leadership']);
    assert.equal(webhookEventOf(alert), 'audit.alert');
  });
});
