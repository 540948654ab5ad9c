import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { RunbookResult } from '../../contracts/runbook-status';
import { fixtureActivities, fixturePlan, newRecorder, type FixtureRecorder } from '../support/fixture-runbook';
import { useWorkflowsServer } from '../support/workflows-server';

// The accidental-deletion runbook's first two steps with fake activities: the restore into a new instance
// runs beside the assessment of production (patched restore-beside-assessment), and an assessment that
// fails stops the restore and removes what it was building.
const w = useWorkflowsServer('dr-accidental-deletion-unit-');
const now = () => new Date().toISOString();
const until = async (what: string, done: () => boolean) => {
  for (let i = 0; i < 300 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(done(), `timed out waiting for ${what}`);
};

function fakes(rec: FixtureRecorder, script: { assessFails?: boolean } = {}) {
  const base = fixtureActivities(rec, { loadRunbookPlan: async ({ scenario }) => ({ ...fixturePlan({ cutover: { ...fixturePlan().gates.cutover! }, repair: { ...fixturePlan().gates.cutover! } }), scenario, drill: { autoApprove: true } }) });
  return {
    ...base,
    async checkRunbookTargets() { return { checked: [] }; },
    // The assessment ends only once the restore has started: a runbook that waited for it would hang here.
    async checkDatabaseHealth() {
      const context = Context.current();
      rec.work.push('assess started');
      while (!rec.work.includes('restore started')) { context.heartbeat(); await context.sleep(20); }
      if (script.assessFails) throw ApplicationFailure.create({ type: 'DatabaseUnreachable', nonRetryable: true, message: 'production refused the connection' });
      rec.work.push('assessed');
      return { database: 'production', checkedAt: now(), serverVersion: 'PostgreSQL 15', userCount: 1, transactionCount: 1, totalAmount: '0.00' };
    },
    async restoreToPointInTime() {
      const context = Context.current();
      rec.work.push('restore started');
      // Held until the assessment has ended (or this is cancelled).
      while (!rec.work.includes('assessed')) { context.heartbeat(); await context.sleep(20); }
      rec.work.push('restored');
      return { instance: { instanceId: 'recovered', endpoint: { port: 1 } }, backupLabel: 'L1', reused: false, target: { kind: 'time', time: now() }, recoveredTo: { lastCommitAt: now(), lsn: '0/1' } };
    },
    async findValidationBaseline() { return { found: false, reason: 'no known good baseline of production' }; },
    async runValidationChecks() { return { passed: true, checks: [], summary: ['✅ all fine'], review: [] }; },
    async deleteDatabaseInstance(input: { instanceId?: string; step?: string }) { rec.undone.push(input.instanceId ?? `build of ${input.step}`); return { deleted: true }; },
  };
}

async function run(client: Client, taskQueue: string): Promise<RunbookResult> {
  const handle = await client.workflow.start('recoverFromAccidentalDeletion', { taskQueue, workflowId: `ad-${randomUUID()}`, args: [{ incidentId: 'DRILL-1', startedBy: 'carol', mode: 'drill', targetTime: new Date(Date.now() - 60_000).toISOString(), resolution: 'cutover' }] });
  try {
    return (await handle.result()) as RunbookResult;
  } catch (error) {
    assert.ok(error instanceof WorkflowFailedError, String(error));
    return (error.cause as unknown as { details: RunbookResult[] }).details[0]!;
  }
}

test('the restore starts while production is assessed; both are on the timeline in runbook order, and the drill completes', async () => {
  const rec = newRecorder();
  await w.withWorker(fakes(rec), async (taskQueue) => {
    const result = await run(w.env.client, taskQueue);
    assert.equal(result.verdict, 'completed', result.verdictDetail);
    assert.deepEqual(rec.work.filter((s) => ['assess started', 'restore started', 'assessed', 'restored'].includes(s)), ['assess started', 'restore started', 'assessed', 'restored']);
    const steps = result.timeline.map((t) => t.step);
    assert.ok(steps[0]!.startsWith('assess production') && steps[1]!.startsWith('restore production'), steps.join(', '));
    assert.deepEqual(rec.undone, ['recovered'], 'the drill removes the recovered instance');
  });
});

test('an assessment that fails cancels the restore beside it: the runbook fails naming it, and the build is removed', async () => {
  const rec = newRecorder();
  await w.withWorker(fakes(rec, { assessFails: true }), async (taskQueue) => {
    const result = await run(w.env.client, taskQueue);
    await until('the cleanup', () => rec.undone.length > 0);
    assert.equal(result.verdict, 'failed');
    assert.match(result.verdictDetail ?? '', /production refused the connection/);
    assert.ok(!rec.work.includes('restored'), 'the restore was cancelled before it finished');
    assert.equal(result.timeline.find((t) => t.step.startsWith('restore production'))?.outcome, 'cancelled');
    assert.deepEqual(rec.undone, ['build of pitr'], 'what the restore was building is removed');
  });
});
