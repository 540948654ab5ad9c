import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { approveUpdate, rejectUpdate } from '../../workflows/messages';
import type { RunbookResult } from '../../contracts/runbook-status';
import type { RecoverFromRegionOutageInput } from '../../workflows/recover-from-region-outage';
import { gateOpen, waitForStatus } from '../support/fixture-runbook';
import { regionOutageFakes, type RegionOutageScript } from '../support/region-outage-fakes';
import { useWorkflowsServer } from '../support/workflows-server';

// The region-outage runbook's decisions, on the real dev server with fake activities: when it refuses to
// fail over, that nothing in production moves before the dns-failover approval, and what a drill touches.
const w = useWorkflowsServer('dr-region-outage-unit-');

async function run<T>(script: RegionOutageScript, fn: (ctx: { taskQueue: string; calls: string[] }) => Promise<T>): Promise<T> {
  const { calls, activities } = regionOutageFakes(script);
  return w.withWorker(activities, (taskQueue) => fn({ taskQueue, calls }), 'region-outage');
}

function start(taskQueue: string, input: Partial<RecoverFromRegionOutageInput>) {
  const full: RecoverFromRegionOutageInput = { incidentId: 'INC-21', startedBy: 'alice', replica: 'dr-replica', ...input };
  return w.env.client.workflow.start('recoverFromRegionOutage', { taskQueue, workflowId: `ro-${randomUUID()}`, args: [full] });
}

async function failure(result: Promise<unknown>): Promise<{ type?: string; message: string }> {
  try {
    await result;
  } catch (error) {
    assert.ok(error instanceof WorkflowFailedError, String(error));
    const cause = error.cause as { type?: string; message: string };
    return { type: cause.type, message: cause.message };
  }
  throw new Error('the runbook completed; it should have refused');
}

test('a primary that still answers is not failed over: nothing is measured, promoted or switched', async () => {
  await run({ primaryAnswers: true }, async ({ taskQueue, calls }) => {
    const refused = await failure((await start(taskQueue, {})).result());
    assert.match(refused.message, /production still answers \(in 3 ms\): failing over now would leave two writable primaries/);
    assert.deepEqual(calls, ['probe production up']);
  });
});

test('failOverWhilePrimaryAnswers forces it past a primary that answers', async () => {
  await run({ primaryAnswers: true }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue, { failOverWhilePrimaryAnswers: true });
    await waitForStatus(handle, gateOpen('dns-failover'), 'dns-failover gate open');
    assert.ok(calls.includes('promote dr-replica'), calls.join(', '));
    await handle.executeUpdate(rejectUpdate, { args: [{ gate: 'dns-failover', approver: 'bob', comment: 'fence the old primary first' }] });
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'approval-rejected');
    // Nothing puts a promotion back: the operator is told the replica is left promoted, on the timeline and in the end's detail.
    const left = result.timeline.find((e) => e.step === 'left as it is');
    assert.match(left?.detail ?? '', /dr-replica was promoted: it is a standalone primary now and no longer replicates production/);
    assert.match(result.verdictDetail ?? '', /Left as it is: dr-replica was promoted/);
  });
});

test('a database name with no DNS record is refused before anything is promoted', async () => {
  await run({ primaryAnswers: false, dnsTarget: null }, async ({ taskQueue, calls }) => {
    const refused = await failure((await start(taskQueue, { dnsName: 'db.mita.internal' })).result());
    assert.match(refused.message, /dnsName: db\.mita\.internal has no DNS record/);
    assert.deepEqual(calls, ['probe production down', 'describe dns db.mita.internal']);
  });
});

test('a replica that does not replicate the failed database is refused, naming what it is', async () => {
  await run({ primaryAnswers: false, replicaOf: 'billing' }, async ({ taskQueue, calls }) => {
    const refused = await failure((await start(taskQueue, {})).result());
    assert.match(refused.message, /replica: dr-replica is not a replica of production \(it is a replica of billing\)/);
    assert.ok(!calls.some((c) => c.startsWith('promote') || c.startsWith('lag')), calls.join(', '));
  });
});

test('a promotion that leaves a replica stops the runbook before the application or DNS move', async () => {
  await run({ primaryAnswers: false, promotedRole: 'replica' }, async ({ taskQueue, calls }) => {
    const refused = await failure((await start(taskQueue, {})).result());
    assert.match(refused.message, /dr-replica is replica.*after promotion: it cannot take writes/);
    assert.ok(!calls.some((c) => c.startsWith('scale') || c.startsWith('switch')), calls.join(', '));
  });
});

test('a failover: lag (RPO) → promote → validate → standby scaled up, then the DNS name moves only after the approval', async () => {
  await run({ primaryAnswers: false }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue, { standbyReplicas: 3, dnsTtlSeconds: 30 });
    await waitForStatus(handle, gateOpen('dns-failover'), 'dns-failover gate open');
    assert.ok(!calls.some((c) => c.startsWith('switch')), 'DNS is not switched before the approval');
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'dns-failover', approver: 'bob', comment: 'replica validated' }] });
    const result = (await handle.result()) as RunbookResult<{ promotedInstance: string; endpoint: string; dns: { target: string; ttlSeconds: number }; application: { replicas: number } }>;
    assert.equal(result.verdict, 'completed', result.verdictDetail);
    assert.deepEqual(calls, [
      'probe production down', 'describe dns db.mita.internal', 'available dr-replica', 'lag of dr-replica', 'promote dr-replica',
      'baseline of production', 'validate dr-replica', 'scale app to 3',
      'switch db.mita.internal to 10.1.0.7:5432', 'app healthy on dr-replica (standby)', 'health of dr-replica',
    ]);
    assert.equal(result.output?.dns.target, '10.1.0.7:5432');
    assert.equal(result.output?.dns.ttlSeconds, 30);
    assert.equal(result.output?.application.replicas, 3);
    assert.ok(result.rpo.achievedSeconds !== undefined && result.rpo.achievedSeconds >= 0, JSON.stringify(result.rpo));
    const verified = result.timeline.findIndex((t) => t.step === 'cutover verified');
    assert.ok(verified > result.timeline.findIndex((t) => t.step.startsWith('verify the application answers')), 'the RTO clock stops when the application answers through the name');
  });
});

test('a rejected failover leaves DNS where it was', async () => {
  await run({ primaryAnswers: false }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue, {});
    await waitForStatus(handle, gateOpen('dns-failover'), 'dns-failover gate open');
    await handle.executeUpdate(rejectUpdate, { args: [{ gate: 'dns-failover', approver: 'bob', comment: 'the region is back' }] });
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'approval-rejected');
    assert.match(result.verdictDetail ?? '', /bob/);
    assert.ok(!calls.some((c) => c.startsWith('switch') || c.startsWith('app healthy')), calls.join(', '));
  });
});

test('a drill promotes its own replica of the primary, never touches the DR replica, DNS or the app, and deletes what it built', async () => {
  await run({ primaryAnswers: true }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue, { mode: 'drill', replica: undefined, incidentId: 'DRILL-21' });
    const result = (await handle.result()) as RunbookResult<{ promotedInstance: string; dns: string }>;
    assert.equal(result.verdict, 'completed', result.verdictDetail);
    const built = result.output!.promotedInstance;
    assert.match(built, /^drill-replica-/);
    assert.match(result.output!.dns, /drill: db\.mita\.internal not switched/);
    assert.ok(!calls.some((c) => c.includes('dr-replica') && !c.includes('drill-replica')), 'the DR replica is not touched');
    assert.ok(!calls.some((c) => c.startsWith('switch') || c.startsWith('scale') || c.startsWith('describe dns')), calls.join(', '));
    assert.equal(calls.at(-1), `delete ${built}`, 'the drill replica is deleted at the end');
  });
});
