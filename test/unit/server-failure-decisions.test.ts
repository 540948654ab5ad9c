import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { abortUpdate, approveUpdate } from '../../workflows/messages';
import type { RunbookResult } from '../../contracts/runbook-status';
import type { RecoverFromServerFailureInput } from '../../workflows/recover-from-server-failure';
import { cutoverGate, fixtureActivities, gateOpen, newRecorder, waitForStatus } from '../support/fixture-runbook';
import { useWorkflowsServer } from '../support/workflows-server';
import { replicaLagOf } from '../../contracts/replica-lag';

// The server-failure runbook's decisions, on the real dev server with fake activities: when the failure
// counts as confirmed, which way it recovers, and what a drill is allowed to touch.
const w = useWorkflowsServer('dr-server-failure-unit-');

interface Script {
  /** One entry per probe of the primary: true = it answers. */
  probes: boolean[];
  standby?: { accepting: boolean; newestCommitSecondsBeforeFailure?: number; lagBytes?: number };
}

function fakes(script: Script) {
  const calls: string[] = [];
  const rec = newRecorder();
  let probe = 0;
  let firstFailureAt = '';
  const instance = (instanceId: string, role: 'primary' | 'replica' = 'primary') => ({
    instanceId, role, status: 'available', acceptingConnections: true, endpoint: { host: '127.0.0.1', port: 6000, database: 'mita' }, origin: { kind: 'enrolled' }, protected: false, createdAt: new Date().toISOString(),
  });
  const activities = {
    // The input's targets are checked by the real activity elsewhere (runbook-targets.test.ts).
    async checkRunbookTargets() {
      return { checked: [] };
    },
    ...fixtureActivities(rec, { plan: { scenario: 'server-failure', environment: 'local', gates: { cutover: cutoverGate({ approvers: ['alice', 'bob'], quorum: 1 }) }, drill: { autoApprove: true }, objectives: { rtoSeconds: 3600, rpoSeconds: 900 } } }),
    async probeDatabase(input: { database: string }) {
      const reachable = script.probes[probe++] ?? true;
      const checkedAt = new Date().toISOString();
      if (!reachable && !firstFailureAt) firstFailureAt = checkedAt;
      calls.push(`probe ${input.database} ${reachable ? 'up' : 'down'}`);
      return { database: input.database, reachable, checkedAt, responseMs: 1, ...(reachable ? {} : { error: 'connection refused' }) };
    },
    async describeDatabaseInstance(input: { instanceId: string }) {
      calls.push(`describe ${input.instanceId}`);
      const s = script.standby!;
      return { ...instance(input.instanceId, 'replica'), acceptingConnections: s.accepting, replication: { sourceInstanceId: 'production', lag: replicaLagOf(s.lagBytes ?? -1), lagSeconds: 0, streaming: false } };
    },
    async readNewestCommit(input: { database: string }) {
      calls.push(`newest ${input.database}`);
      const seconds = input.database === 'standby' ? script.standby?.newestCommitSecondsBeforeFailure : 2;
      return { database: input.database, inRecovery: false, ...(seconds === undefined ? {} : { newestCommitAt: new Date(Date.parse(firstFailureAt || new Date().toISOString()) - seconds * 1000).toISOString() }) };
    },
    async promoteReplica(input: { instanceId: string }) {
      calls.push(`promote ${input.instanceId}`);
      return instance(input.instanceId);
    },
    async createReplica(input: { step: string }) {
      calls.push(`create replica ${input.step}`);
      return { instance: instance(`replica-${input.step}`, 'replica'), backupLabel: 'B1', reused: false };
    },
    async listDatabaseBackups() {
      calls.push('list backups');
      return [{ label: 'B1', stoppedAt: '2026-11-23T02:00:00Z' }];
    },
    async restoreToPointInTime(input: { step: string }) {
      calls.push(`restore ${input.step}`);
      return { instance: instance(`restored-${input.step}`), backupLabel: 'B1', reused: false, target: { kind: 'latest' }, recoveredTo: { lsn: '0/1' } };
    },
    async runValidationChecks(input: { database: string }) {
      calls.push(`validate ${input.database}`);
      return { database: input.database, passed: true, checks: [{ verdict: 'pass' }], summary: ['✅ all good'] };
    },
    async deleteDatabaseInstance(input: { instanceId: string }) {
      calls.push(`delete ${input.instanceId}`);
      return { deleted: true };
    },
    async pointAppAtDatabase(input: { database: string }) {
      calls.push(`point app at ${input.database}`);
      return { changed: true, current: { endpoint: '127.0.0.1:6000' } };
    },
    async restartApp() {
      calls.push('restart app');
      return { restartedAt: new Date().toISOString(), stopped: ['process 1'], started: ['process 2'] };
    },
    async waitUntilAppHealthy(input: { database: string }) {
      calls.push(`app healthy on ${input.database}`);
      return { database: { address: '127.0.0.1:6000' } };
    },
  };
  return { calls, activities };
}

async function run<T>(script: Script, fn: (ctx: { taskQueue: string; calls: string[] }) => Promise<T>): Promise<T> {
  const { calls, activities } = fakes(script);
  return w.withWorker(activities, (taskQueue) => fn({ taskQueue, calls }), 'server-failure');
}

function start(taskQueue: string, input: Partial<RecoverFromServerFailureInput>) {
  const full: RecoverFromServerFailureInput = { incidentId: 'INC-9', startedBy: 'alice', checks: 3, checkIntervalSeconds: 1, checkTimeoutSeconds: 1, ...input };
  return w.env.client.workflow.start('recoverFromServerFailure', { taskQueue, workflowId: `sf-${randomUUID()}`, args: [full] });
}

test('a primary that answers the last check of the window is not failed over: nothing is promoted or built', async () => {
  await run({ probes: [false, false, true], standby: { accepting: true, newestCommitSecondsBeforeFailure: 1 } }, async ({ taskQueue, calls }) => {
    const result = (await (await start(taskQueue, { replica: 'standby' })).result()) as RunbookResult<{ failover: boolean; finding: string }>;
    assert.equal(result.verdict, 'completed');
    assert.equal(result.output?.failover, false);
    assert.match(result.output!.finding, /production answered check 3 of 3/);
    assert.deepEqual(calls, ['probe production down', 'probe production down', 'probe production up']);
  });
});

test('a primary that still answers the platform (its standby measures a lag in bytes) is not failed over', async () => {
  await run({ probes: [false, false, false], standby: { accepting: true, lagBytes: 0 } }, async ({ taskQueue, calls }) => {
    const result = (await (await start(taskQueue, { replica: 'standby' })).result()) as RunbookResult<{ failover: boolean; finding: string }>;
    assert.equal(result.output?.failover, false);
    assert.match(result.output!.finding, /answered the platform/);
    assert.deepEqual(calls.slice(3), ['describe standby']);
  });
});

test('a standby lagging more than the RPO objective is not promoted: the latest backup is restored instead', async () => {
  await run({ probes: [false, false, false], standby: { accepting: true, newestCommitSecondsBeforeFailure: 1200 } }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue, { replica: 'standby' });
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    assert.ok(!calls.some((c) => c.startsWith('point app')), 'the application is not moved before the approval');
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob' }] });
    const result = (await handle.result()) as RunbookResult<{ path: string; standbyDecision: string; recoveredInstance: string }>;
    assert.equal(result.verdict, 'completed', result.verdictDetail);
    assert.equal(result.output?.path, 'restored-backup');
    assert.match(result.output!.standbyDecision, /standby lags 1200 s \(RPO objective 900 s\)/);
    assert.ok(!calls.some((c) => c.startsWith('promote')));
    const restored = result.output!.recoveredInstance;
    assert.deepEqual(calls.slice(calls.indexOf('list backups')), ['list backups', 'restore restore-latest', `newest ${restored}`, `validate ${restored}`, `point app at ${restored}`, 'restart app', `app healthy on ${restored}`, `validate ${restored}`]);
    assert.equal(result.rpo.achievedSeconds, 2);
  });
});

test('a standby within the RPO is promoted; one that does not answer is passed over', async () => {
  await run({ probes: [false, false], standby: { accepting: true, newestCommitSecondsBeforeFailure: 3 } }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue, { replica: 'standby', checks: 2 });
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob' }] });
    const result = (await handle.result()) as RunbookResult<{ path: string }>;
    assert.equal(result.output?.path, 'promoted-standby');
    assert.ok(calls.includes('promote standby') && calls.includes('point app at standby'));
    assert.ok(!calls.some((c) => c.startsWith('restore')));
  });
  await run({ probes: [false, false], standby: { accepting: false } }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue, { replica: 'standby', checks: 2, mode: 'drill' });
    const result = (await handle.result()) as RunbookResult<{ path: string; standbyDecision: string }>;
    assert.equal(result.output?.path, 'restored-backup');
    assert.match(result.output!.standbyDecision, /not accepting connections/);
    assert.ok(!calls.some((c) => c.startsWith('promote')));
  });
});

test('a drill never promotes the real standby nor moves the application, and removes what it built', async () => {
  await run({ probes: [true, true], standby: { accepting: true, lagBytes: 0 } }, async ({ taskQueue, calls }) => {
    const result = (await (await start(taskQueue, { replica: 'standby', checks: 2, mode: 'drill' })).result()) as RunbookResult<{ path: string; recoveredInstance: string }>;
    assert.equal(result.verdict, 'completed', result.verdictDetail);
    assert.equal(result.output?.path, 'promoted-standby');
    const built = result.output!.recoveredInstance;
    assert.notEqual(built, 'standby');
    assert.ok(calls.includes(`promote ${built}`));
    assert.ok(!calls.includes('promote standby'));
    assert.ok(!calls.some((c) => c.startsWith('point app') || c === 'restart app'));
    assert.equal(calls.at(-1), `delete ${built}`);
  });
});

test('aborted during the confirmation window: ends aborted at once, nothing built', async () => {
  await run({ probes: [false, false, false] }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue, { checkIntervalSeconds: 600 });
    await waitForStatus(handle, (s) => s.timeline.some((t) => t.step.startsWith('check 1 of 3') && t.outcome === 'succeeded'), 'first check done');
    await handle.executeUpdate(abortUpdate, { args: [{ by: 'carol', reason: 'false alarm' }] });
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'aborted');
    assert.deepEqual(calls, ['probe production down']);
  });
});
