import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createNotificationActivities } from '../../activities/notifications';
import { createConsoleNotifier } from '../../activities/platform/local/console-notifier';
import { createRunbookPlanActivities } from '../../activities/runbook-plan';
import { startRunbook } from '../../client/runbooks';
import { temporalBinary } from '../../stack/paths';
import { startTemporalServer, type TemporalServer } from '../../stack/temporal-server';
import { workerConfigSchema } from '../../worker/config';
import { approveSignal, approveUpdate, statusQuery, type RunbookResult, type RunbookStatus } from '../../workflows/messages';
import { fixtureRunbookInput } from '../fixtures/workflows';
import { fixtureActivities, fixtureBundle, fixtureInput, gateOpen, newRecorder, waitForStatus, withFixtureWorker } from '../support/fixture-runbook';
import { quietTemporalLogs } from '../support/quiet-logs';

// Talking to a running runbook on the real dev server: our client (Update, Signal, Query) and the
// `temporal` CLI, a client we did not write. Gates come from a real worker config through the plan activity.
const run = promisify(execFile);
let server: TemporalServer;
let env: TestWorkflowEnvironment;
let stateDir: string;
const notices: string[] = [];

const config = workerConfigSchema.parse({
  environment: 'local',
  databases: {},
  approvals: { gates: { cutover: { approvers: ['alice', 'bob', 'carol', 'dave'], quorum: 2 } } },
});

before(async () => {
  quietTemporalLogs();
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'dr-runbook-messages-'));
  server = await startTemporalServer({ stateDir });
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address, namespace: server.namespace });
  await fixtureBundle();
});

after(async () => {
  await env?.teardown();
  await server?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

function activities() {
  const rec = newRecorder();
  const fakes = fixtureActivities(rec);
  return {
    rec,
    activities: { ...fakes, ...createRunbookPlanActivities(config), ...createNotificationActivities(createConsoleNotifier((l) => notices.push(l))) },
  };
}

async function temporal(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(temporalBinary(), [...args, '--address', server.address, '--namespace', server.namespace], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

test('our client: approve through an Update and through a Signal, read status through a Query', async () => {
  const { activities: acts } = activities();
  await withFixtureWorker(env.nativeConnection, server.namespace, acts, async (taskQueue) => {
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
  });
});

test('the temporal CLI: query status, approve with `update execute` (a refusal exits non-zero), approve with `signal`', async () => {
  const { activities: acts } = activities();
  await withFixtureWorker(env.nativeConnection, server.namespace, acts, async (taskQueue) => {
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

    const finalQuery = await temporal('workflow', 'query', ...id, '--name', 'status', '--output', 'json');
    assert.equal(finalQuery.code, 0, finalQuery.stderr);
    assert.equal((JSON.parse(finalQuery.stdout) as { queryResult: RunbookStatus[] }).queryResult[0]!.verdict, 'completed');
  });
});
