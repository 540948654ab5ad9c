import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { AlertNote } from '../../contracts/alert-note';
import { alertWorkflowId, createAlertHandling, type AlertmanagerNotification } from '../../worker/alert-receiver';
import { workerConfigSchema } from '../../worker/config';

// What the receiver does with each notification, decided against a stand-in for Temporal's client (the
// real path, a real Alertmanager delivering to a real worker, is test/e2e/alert-triggered-runbook.test.ts).
const config = workerConfigSchema.parse({
  environment: 'local',
  databases: { production: { port: 5432, database: 'mita', user: 'app', passwordSecret: 'pw' } },
  alerts: {
    receiver: { listen: '127.0.0.1:9095', auth: { bearerTokenSecret: 'am-token' } },
    runbooks: {
      DatabaseConnectionFailure: { start: 'server-failure', labels: { database: 'database' }, input: { replica: 'standby' } },
      DataCorruptionDetected: { start: 'assess', labels: { database: 'database' }, page: true },
    },
  },
});

interface Run { workflowType: string; options: { args: unknown[]; memo: { alert: { occurrences: string[] } }; workflowIdReusePolicy: string; workflowIdConflictPolicy: string; staticSummary: string }; status: string }
function fakeClient() {
  const runs = new Map<string, Run>();
  const signals: Array<{ workflowId: string; note: AlertNote }> = [];
  const client = {
    workflow: {
      getHandle: (workflowId: string) => ({
        async describe() {
          const run = runs.get(workflowId);
          if (!run) throw Object.assign(new Error(`workflow ${workflowId} not found`), { name: 'WorkflowNotFoundError' });
          return { status: { name: run.status }, memo: run.options.memo };
        },
        async signal(_signal: unknown, note: AlertNote) {
          signals.push({ workflowId, note });
        },
      }),
      async start(workflowType: string, options: Run['options'] & { workflowId: string }) {
        if (runs.get(options.workflowId)?.status === 'RUNNING') throw new WorkflowExecutionAlreadyStartedError('already started', options.workflowId, workflowType);
        runs.set(options.workflowId, { workflowType, options, status: 'RUNNING' });
      },
    },
  };
  return { client: client as unknown as Client, runs, signals };
}

const labels = { alertname: 'DatabaseConnectionFailure', environment: 'local', database: 'production', severity: 'critical' };
function notification(overrides: Partial<AlertmanagerNotification> = {}, alert: Partial<AlertmanagerNotification['alerts'][number]> = {}): AlertmanagerNotification {
  return {
    version: '4', groupKey: '{}:{alertname="DatabaseConnectionFailure", database="production", environment="local"}', status: 'firing', receiver: 'dr-runbooks',
    groupLabels: { alertname: 'DatabaseConnectionFailure', database: 'production', environment: 'local' }, commonLabels: labels,
    alerts: [{ status: 'firing', labels, annotations: {}, startsAt: '2026-11-23T03:12:00.000Z', endsAt: '0001-01-01T00:00:00Z', fingerprint: 'a1b2c3d4e5f60718', ...alert }],
    ...overrides,
  };
}

describe('alert receiver decisions', () => {
  test('the workflow id comes from the groupKey alone: the same group is the same id, another group another', () => {
    const id = alertWorkflowId('DatabaseConnectionFailure', notification().groupKey);
    assert.match(id, /^alert-database-connection-failure-[0-9a-f]{16}$/);
    assert.equal(alertWorkflowId('DatabaseConnectionFailure', notification().groupKey), id);
    assert.notEqual(alertWorkflowId('DatabaseConnectionFailure', '{}:{alertname="DatabaseConnectionFailure", database="billing", environment="local"}'), id);
  });

  test('a firing group starts its runbook: input from the mapping and the labels, started by the receiver, the RTO from the alert\'s start', async () => {
    const { client, runs } = fakeClient();
    const handle = createAlertHandling({ client, taskQueue: 'dr-runbooks', config, secrets: undefined as never });
    const answer = await handle(notification());
    assert.equal(answer.action, 'started');
    const run = runs.get((answer as { workflowId: string }).workflowId)!;
    assert.equal(run.workflowType, 'recoverFromServerFailure');
    const input = run.options.args[0] as Record<string, unknown>;
    assert.deepEqual({ database: input.database, replica: input.replica, startedBy: input.startedBy, environment: input.environment, mode: input.mode, declaredAt: input.declaredAt }, { database: 'production', replica: 'standby', startedBy: 'alertmanager', environment: 'local', mode: 'real', declaredAt: '2026-11-23T03:12:00.000Z' });
    assert.match(input.incidentId as string, /^ALERT-20261123T0312Z-[0-9a-f]{6}$/);
    assert.equal(input.checks, 3, 'the scenario\'s own defaults apply');
    assert.deepEqual({ reuse: run.options.workflowIdReusePolicy, conflict: run.options.workflowIdConflictPolicy }, { reuse: 'ALLOW_DUPLICATE', conflict: 'FAIL' });
    assert.deepEqual(run.options.memo.alert.occurrences, ['a1b2c3d4e5f60718@2026-11-23T03:12:00.000Z']);
    assert.match(run.options.staticSummary, /server-failure .* alert DatabaseConnectionFailure$/);
  });

  test('repeats never start a second runbook: while it runs, when two receivers race, and after it ended for the same incident; a new incident of the group does', async () => {
    const { client, runs } = fakeClient();
    const handle = createAlertHandling({ client, taskQueue: 'dr-runbooks', config, secrets: undefined as never });
    const { workflowId } = (await handle(notification())) as { workflowId: string };
    assert.deepEqual(await handle(notification()), { action: 'already-running', workflowId });
    // A second receiver that described the group before the first one started it: the start is refused.
    const racing = createAlertHandling({ client: { workflow: { ...client.workflow, getHandle: () => ({ describe: async () => { throw Object.assign(new Error('not found'), { name: 'WorkflowNotFoundError' }); } }) } } as never, taskQueue: 'dr-runbooks', config, secrets: undefined as never });
    assert.deepEqual(await racing(notification()), { action: 'already-running', workflowId });
    runs.get(workflowId)!.status = 'COMPLETED';
    assert.deepEqual(await handle(notification()), { action: 'already-handled', workflowId, status: 'completed' });
    const another = await handle(notification({}, { startsAt: '2026-12-02T08:00:00.000Z' }));
    assert.deepEqual(another, { action: 'started', workflowId, workflowType: 'recoverFromServerFailure' }, 'fired again after it resolved: a new incident, a new run');
  });

  test('a resolved group is noted on its running runbook (labels and times only); with nothing running it is only answered', async () => {
    const { client, runs, signals } = fakeClient();
    const handle = createAlertHandling({ client, taskQueue: 'dr-runbooks', config, secrets: undefined as never });
    const resolved = notification({ status: 'resolved' }, { status: 'resolved', endsAt: '2026-11-23T03:20:00.000Z' });
    assert.equal((await handle(resolved)).action, 'ignored');
    const { workflowId } = (await handle(notification())) as { workflowId: string };
    assert.deepEqual(await handle(resolved), { action: 'noted', workflowId });
    assert.deepEqual(signals, [{ workflowId, note: { status: 'resolved', alertname: 'DatabaseConnectionFailure', labels: { alertname: 'DatabaseConnectionFailure', database: 'production', environment: 'local' }, startsAt: '2026-11-23T03:12:00.000Z', endsAt: '2026-11-23T03:20:00.000Z' } }]);
    assert.equal(runs.size, 1);
  });

  test('DataCorruptionDetected assesses and pages: the assessment, with page and the receiver as who asks', async () => {
    const { client, runs } = fakeClient();
    const handle = createAlertHandling({ client, taskQueue: 'dr-runbooks', config, secrets: undefined as never });
    const corruption = { alertname: 'DataCorruptionDetected', environment: 'local', database: 'production' };
    const answer = await handle(notification({ groupKey: '{}:{alertname="DataCorruptionDetected"}', groupLabels: corruption, commonLabels: corruption }, { labels: corruption }));
    assert.equal(answer.action, 'started');
    const run = runs.get((answer as { workflowId: string }).workflowId)!;
    assert.equal(run.workflowType, 'assessDatabaseHealth');
    assert.deepEqual(run.options.args[0], { database: 'production', environment: 'local', incidentId: (run.options.args[0] as { incidentId: string }).incidentId, page: true, startedBy: 'alertmanager' });
  });

  test('what it does not act on: an alert no runbook is mapped to, another environment\'s alert; what it refuses: no common alertname, labels that make no valid input', async () => {
    const { client, runs } = fakeClient();
    const handle = createAlertHandling({ client, taskQueue: 'dr-runbooks', config, secrets: undefined as never });
    const other = { alertname: 'ReplicationLagHigh', environment: 'local', database: 'production' };
    assert.deepEqual(await handle(notification({ groupLabels: other, commonLabels: other })), { action: 'ignored', reason: 'no runbook is mapped to ReplicationLagHigh (alerts.runbooks)' });
    assert.equal((await handle(notification({ commonLabels: { ...labels, environment: 'staging' } }))).action, 'ignored');
    await assert.rejects(handle(notification({ groupLabels: {}, commonLabels: {} })), (e: Error & { status?: number }) => e.status === 422 && /group_by/.test(e.message));
    await assert.rejects(handle(notification({ commonLabels: { ...labels, database: 'Prod DB' } })), (e: Error & { status?: number }) => e.status === 422 && /database: must be a config name/.test(e.message));
    assert.equal(runs.size, 0, 'nothing started');
  });
});
