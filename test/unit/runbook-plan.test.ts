import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNotificationActivities } from '../../activities/notifications';
import { createConsoleNotifier } from '../../activities/adapters/local/console-notifier';
import type { Notifier } from '../../activities/ports/notifier';
import { createRunbookPlanActivities } from '../../activities/runbook-plan';
import { workerConfigSchema } from '../../worker/config';
import { createChannelRouter } from '../../worker/notification-channels';

const existingConfig = { environment: 'local', databases: { production: { port: 5432, database: 'mita', user: 'postgres', passwordSecret: 'production-db-password' } } };

test('a config without approvals, objectives or notifiers still loads, with the seed defaults', () => {
  const config = workerConfigSchema.parse(existingConfig);
  assert.deepEqual(config.approvals.escalation, [
    { after: '15 minutes', notify: 'technical-team' },
    { after: '30 minutes', notify: 'management' },
    { after: '60 minutes', notify: 'executives' },
  ]);
  assert.deepEqual(config.objectives.default, { rto: '1 hour', rpo: '15 minutes' });
  assert.deepEqual(config.notifiers, [{ type: 'console' }]);
});

test('a bad duration or an empty approver list is named in the config error', () => {
  const parsed = workerConfigSchema.safeParse({ ...existingConfig, approvals: { deadline: 'soon', gates: { cutover: { approvers: [] } } } });
  assert.ok(!parsed.success);
  const paths = parsed.error.issues.map((i) => i.path.join('.'));
  assert.deepEqual(paths.sort(), ['approvals.deadline', 'approvals.gates.cutover.approvers']);
});

test('the plan: gates from config, default tiers and deadline, two-person rule on for every gate (off only where the config says, and the plan says so), proofs required by default, scenario overrides', async () => {
  const config = workerConfigSchema.parse({
    ...existingConfig,
    approvals: {
      gates: { cutover: { approvers: ['alice', 'bob', 'bob '], quorum: 2 }, 'data-repair': { approvers: ['dba-on-call'] } },
      scenarios: { 'accidental-deletion': { gates: { cutover: { approvers: ['alice', 'erin'], twoPersonRule: false, deadline: '10s', escalation: [{ after: '5s', notify: 'dba' }] } } } },
    },
    objectives: { scenarios: { 'failed-migration': { rto: '30 minutes', rpo: '0s' } } },
  });
  const { loadRunbookPlan } = createRunbookPlanActivities(config);
  const plan = await loadRunbookPlan({ scenario: 'server-failure', environment: 'local' });
  assert.deepEqual(plan.gates.cutover, {
    approvers: ['alice', 'bob'],
    quorum: 2,
    twoPersonRule: true,
    escalation: [
      { afterMs: 900_000, audience: 'technical-team' },
      { afterMs: 1_800_000, audience: 'management' },
      { afterMs: 3_600_000, audience: 'executives' },
    ],
    deadlineMs: 7_200_000,
    authentication: 'ssh-or-totp',
  });
  assert.equal(plan.gates['data-repair']!.twoPersonRule, true, 'every gate precedes a production change: the starter may not approve it');
  assert.equal(plan.gates['data-repair']!.quorum, 1);
  assert.deepEqual(plan.objectives, { rtoSeconds: 3600, rpoSeconds: 900 });
  assert.deepEqual(plan.abort, { commanders: ['alice', 'bob', 'dba-on-call'], authentication: 'ssh-or-totp' }, 'without incident commanders listed, the approvers are');

  const deletion = await loadRunbookPlan({ scenario: 'accidental-deletion', environment: 'local' });
  assert.deepEqual(deletion.gates.cutover, {
    approvers: ['alice', 'erin'], quorum: 1, twoPersonRule: false, escalation: [{ afterMs: 5000, audience: 'dba' }], deadlineMs: 10_000, authentication: 'ssh-or-totp',
    relaxations: ['two-person rule off (approvals.scenarios.accidental-deletion.gates.cutover.twoPersonRule: false): the runbook\'s starter may approve'],
  });
  const migration = await loadRunbookPlan({ scenario: 'failed-migration', environment: 'local' });
  assert.deepEqual(migration.objectives, { rtoSeconds: 1800, rpoSeconds: 0 });
});

test('the plan refuses another environment and an unreachable quorum, naming the problem', async () => {
  const config = workerConfigSchema.parse({ ...existingConfig, approvals: { gates: { cutover: { approvers: ['alice'], quorum: 2 } } } });
  const { loadRunbookPlan } = createRunbookPlanActivities(config);
  await assert.rejects(loadRunbookPlan({ scenario: 'x', environment: 'staging' }), /environment: this worker serves "local", not "staging"/);
  await assert.rejects(loadRunbookPlan({ scenario: 'x', environment: 'local' }), /approvals.gates.cutover.quorum: 2 approvals needed but only 1 approver/);
});

test('console notifier: one readable line per notification, drills marked; notify dispatches by kind', async () => {
  const lines: string[] = [];
  const { notify } = createNotificationActivities(createConsoleNotifier((l) => lines.push(l)));
  const runbook = { workflowId: 'wf-1', scenario: 'server-failure', environment: 'local', incidentId: 'INC-9', mode: 'drill' as const };
  await notify({ kind: 'incident-opened', runbook, startedBy: 'carol' });
  await notify({ kind: 'approval-needed', runbook, gate: 'cutover', approvers: ['alice', 'bob'], quorum: 2, deadlineAt: '2026-11-23T05:00:00.000Z' });
  await notify({ kind: 'escalation', runbook, gate: 'cutover', audience: 'management', waitingSince: '2026-11-23T03:00:00.000Z', deadlineAt: '2026-11-23T05:00:00.000Z' });
  await notify({ kind: 'resolved', runbook, verdict: 'completed' });
  assert.deepEqual(lines, [
    '[dr-notify] Incident opened: [DRILL] server-failure INC-9 (local, workflow wf-1), started by carol',
    '[dr-notify] Approval needed: gate "cutover" of [DRILL] server-failure INC-9 (local, workflow wf-1) needs 2 of alice, bob before 2026-11-23T05:00:00.000Z',
    '[dr-notify] Escalation to management: gate "cutover" of [DRILL] server-failure INC-9 (local, workflow wf-1) has waited since 2026-11-23T03:00:00.000Z; it fails closed at 2026-11-23T05:00:00.000Z',
    '[dr-notify] Resolved: [DRILL] server-failure INC-9 (local, workflow wf-1) ended completed',
  ]);
});

test('fan-out: one failing adapter does not silence the others, and the failure is raised', async () => {
  const lines: string[] = [];
  const broken: Notifier = { incidentOpened: async () => { throw new Error('webhook 503'); }, approvalNeeded: async () => {}, gateDecided: async () => {}, escalation: async () => {}, statusUpdate: async () => {}, resolved: async () => {}, auditAlert: async () => {} };
  const notifier = createChannelRouter([{ name: 'broken', notifier: broken }, { name: 'console', notifier: createConsoleNotifier((l) => lines.push(l)) }]);
  const runbook = { workflowId: 'wf-1', scenario: 's', environment: 'local', incidentId: 'INC-1', mode: 'real' as const };
  await assert.rejects(notifier.incidentOpened({ kind: 'incident-opened', runbook, startedBy: 'x' }), /1 of 2 channel\(s\) failed \(broken\); delivered to console\. webhook 503/);
  assert.equal(lines.length, 1);
});

test('authentication per environment and gate: none only where the config says so, and the plan says so at the gate; incident commanders and the abort proof', async () => {
  const config = workerConfigSchema.parse({
    ...existingConfig,
    approvals: {
      authentication: 'ssh',
      incidentCommanders: ['ic-on-call'],
      abort: { authentication: 'totp' },
      gates: { cutover: { approvers: ['alice', 'bob'] }, repair: { approvers: ['alice', 'bob'], authentication: 'none' } },
      drill: { autoApprove: false, authentication: 'none' },
    },
  });
  const plan = await createRunbookPlanActivities(config).loadRunbookPlan({ scenario: 'accidental-deletion', environment: 'local' });
  assert.equal(plan.gates.cutover!.authentication, 'ssh');
  assert.equal(plan.gates.cutover!.relaxations, undefined);
  assert.equal(plan.gates.repair!.authentication, 'none');
  assert.deepEqual(plan.gates.repair!.relaxations, ['votes need no proof (approvals.gates.repair.authentication: none)']);
  assert.deepEqual(plan.abort, { commanders: ['ic-on-call'], authentication: 'totp' });
  assert.deepEqual(plan.drill, { autoApprove: false, authentication: 'none' });
  const bad = workerConfigSchema.safeParse({ ...existingConfig, approvals: { authentication: 'password' } });
  assert.ok(!bad.success);
  assert.match(bad.error.issues[0]!.message, /must be ssh, totp, ssh-or-totp or none/);
});
