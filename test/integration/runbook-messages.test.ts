import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { createConsoleNotifier } from '../../activities/adapters/local/console-notifier';
import { startRunbook } from '../../client/runbooks';
import { temporalBinary } from '../../stack/paths';
import { loadWorkerConfig, type WorkerConfig } from '../../worker/config';
import { createDatabaseConnections } from '../../worker/database-connections';
import { createAdapters } from '../../worker/adapters';
import { approveSignal, approveUpdate, statusQuery } from '../../workflows/messages';
import type { RunbookResult, RunbookStatus } from '../../contracts/runbook-status';
import { fixtureRunbookInput } from '../fixtures/workflows';
import { fixtureActivities, fixtureBundle, fixtureInput, gateOpen, newRecorder, waitForStatus, withFixtureWorker } from '../support/fixture-runbook';
import { startTestStack } from '../support/stack';
import { createMemoryObjectStore } from '../support/memory-object-store';

// Talking to a running runbook on the real dev server: our client (Update, Signal, Query) and the
// `temporal` CLI, a client we did not write. The runbook's own activities are the real ones: the plan from
// the worker config, the console notifier, and the audit trail in the local stack's control cluster (as
// its INSERT/SELECT-only writer role); only the fixture's steps are fakes.
const run = promisify(execFile);
let stack: Awaited<ReturnType<typeof startTestStack>>;
let env: TestWorkflowEnvironment;
let config: WorkerConfig;
let databases: ReturnType<typeof createDatabaseConnections>;
let real: ReturnType<typeof createActivities>;
const notices: string[] = [];

before(async () => {
  stack = await startTestStack();
  config = { ...loadWorkerConfig(stack.configFile) };
  config.approvals = { ...config.approvals, gates: { cutover: { approvers: ['alice', 'bob', 'carol', 'dave'], quorum: 2 } } };
  databases = createDatabaseConnections(config, createAdapters(config).secrets);
  real = createActivities({ databases, auditDatabase: config.audit!.database, runbookPlan: config, notifier: createConsoleNotifier((l) => notices.push(l)), objectStore: createMemoryObjectStore() });
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: stack.temporal.address, namespace: stack.temporal.namespace });
  await fixtureBundle();
});

after(async () => {
  await env?.teardown();
  await databases?.close();
  await stack?.stop();
});

function activities() {
  const rec = newRecorder();
  const { doWork, undoWork, readNewestCommit } = fixtureActivities(rec);
  return { rec, activities: { ...real, doWork, undoWork, readNewestCommit } };
}

/** The audit trail the runbook wrote: verified hash chain, one row per entry the runbook numbered. */
async function assertAuditTrail(workflowId: string, result: RunbookResult): Promise<void> {
  const verdict = await real.verifyAuditChain({ workflowId });
  assert.deepEqual(verdict.problems, []);
  assert.ok(verdict.ok);
  const { rows } = await (await databases.pool(config.audit!.database)).query<{ seq: number; actor: string; action: string }>('SELECT seq, actor, action FROM dr_audit_log WHERE workflow_id = $1 ORDER BY seq', [workflowId]);
  assert.equal(rows.length, verdict.rows);
  assert.deepEqual(rows.map((r) => r.seq), rows.map((_, i) => i + 1));
  const actions = rows.map((r) => `${r.actor}:${r.action}`);
  for (const vote of result.gates[0]!.approvals) assert.ok(actions.includes(`${vote.approver}:gate-approved`), `audit has ${vote.approver}'s approval`);
  assert.equal(actions.at(-1), 'runbook:runbook-ended');
}

async function temporal(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(temporalBinary(), [...args, '--address', stack.temporal.address, '--namespace', stack.temporal.namespace], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

test('our client: approve through an Update and through a Signal, read status through a Query; the audit trail verifies', async () => {
  const { activities: acts } = activities();
  await withFixtureWorker(env.nativeConnection, stack.temporal.namespace, acts, async (taskQueue) => {
    const input = fixtureRunbookInput.parse(fixtureInput({ incidentId: 'INC-31' }));
    const handle = await startRunbook(env.client, { workflowType: 'fixtureRunbook', scenario: 'fixture', input, taskQueue });
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');

    const byUpdate = await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'alice', comment: 'validation green' }] });
    assert.deepEqual(byUpdate, { gate: 'cutover', status: 'open', approvals: ['alice'], approvalsStillNeeded: 1 });
    const status = await handle.query(statusQuery);
    assert.equal(status.scenario, 'fixture');
    assert.equal(status.mode, 'real');
    assert.equal(status.currentStep, 'approval gate "cutover"');
    assert.deepEqual(status.openGates.map((g) => [g.gate, g.approvals.map((v) => v.approver), g.stillMayApprove]), [['cutover', ['alice'], ['bob', 'dave']]]);
    assert.equal(status.rto.objectiveSeconds, 3600, 'objective from the config default');
    assert.equal(status.rpo.objectiveSeconds, 900);

    await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob' });
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'completed');
    assert.deepEqual(result.gates[0]!.approvals.map((v) => v.approver), ['alice', 'bob']);
    const described = await handle.describe();
    assert.equal(await described.staticSummary(), 'fixture · INC-31 · local · started by carol');
    assert.ok(notices.some((l) => l.includes('Approval needed: gate "cutover"') && l.includes('INC-31')));
    await assertAuditTrail(handle.workflowId, result);
  });
});

test('the temporal CLI: query status, approve with `update execute` (a refusal exits non-zero), approve with `signal`', async () => {
  const { activities: acts } = activities();
  await withFixtureWorker(env.nativeConnection, stack.temporal.namespace, acts, async (taskQueue) => {
    const input = fixtureRunbookInput.parse(fixtureInput({ incidentId: 'INC-32' }));
    const handle = await startRunbook(env.client, { workflowType: 'fixtureRunbook', scenario: 'fixture', input, taskQueue });
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    const id = ['--workflow-id', handle.workflowId];

    const queried = await temporal('workflow', 'query', ...id, '--name', 'status', '--output', 'json');
    assert.equal(queried.code, 0, queried.stderr);
    const status = (JSON.parse(queried.stdout) as { queryResult: RunbookStatus[] }).queryResult[0]!;
    assert.equal(status.openGates[0]!.gate, 'cutover');
    assert.deepEqual(status.openGates[0]!.stillMayApprove, ['alice', 'bob', 'dave']);

    const refused = await temporal('workflow', 'update', 'execute', ...id, '--name', 'approve', '--input', JSON.stringify({ gate: 'cutover', approver: 'carol' }));
    assert.notEqual(refused.code, 0, 'the starter cannot approve through the CLI either');
    assert.match(refused.stderr + refused.stdout, /two-person rule/);

    const approved = await temporal('workflow', 'update', 'execute', ...id, '--name', 'approve', '--input', JSON.stringify({ gate: 'cutover', approver: 'alice' }));
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, /approvalsStillNeeded/);

    const signalled = await temporal('workflow', 'signal', ...id, '--name', 'approve', '--input', JSON.stringify({ gate: 'cutover', approver: 'dave', comment: 'from the CLI' }));
    assert.equal(signalled.code, 0, signalled.stderr);
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'completed');
    assert.deepEqual(result.gates[0]!.approvals.map((v) => v.approver), ['alice', 'dave']);

    await assertAuditTrail(handle.workflowId, result);
    const finalQuery = await temporal('workflow', 'query', ...id, '--name', 'status', '--output', 'json');
    assert.equal(finalQuery.code, 0, finalQuery.stderr);
    assert.equal((JSON.parse(finalQuery.stdout) as { queryResult: RunbookStatus[] }).queryResult[0]!.verdict, 'completed');
  });
});
