import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { InstanceRegistry } from '../../activities/adapters/local/postgres/instance-registry';
import { startRunbook } from '../../client/runbooks';
import { startSteadyWriter } from '../../demo/steady-writer';
import { commandLineOf } from '../../lib/leftover-process';
import { abortUpdate } from '../../workflows/messages';
import { scenarios } from '../../workflows/scenarios';
import { runbookOutcome, startScenarioStack, type ScenarioStack } from '../support/scenario-stack';

// Whatever stops a runbook leaves nothing it built (issue 11): aborting (or cancelling) while a build is in
// flight removes what the build made. The build's cleanup is registered for its deterministic instance id
// before the build starts, and the cancellation waits until the activity has stopped, so a restore that
// would finish after the workflow gave up cannot leave a copy of production running. On the local
// platform: the registry, the data directories and the processes (PostgreSQL, pgBackRest) are checked.
let s: ScenarioStack;
before(async () => {
  s = await startScenarioStack({ users: 200, transactionsPerUser: 30 });
});
after(async () => {
  await s?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const platformDir = () => s.config.platform!.local!.stateDir;
const registry = () => new InstanceRegistry(path.join(platformDir(), 'instances.json'));

/**
 * Waits until the platform is restoring a backup set into a new instance, and holds that restore (SIGSTOP
 * to its pgBackRest process group), so the abort lands while the build is in flight however fast this
 * machine restores a small backup. Returns the instance's id.
 */
async function buildInFlight(timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const building = registry().all().find((r) => r.status === 'creating' && r.operationPgid);
    if (building) {
      process.kill(-building.operationPgid!, 'SIGSTOP');
      return building.instanceId;
    }
    await sleep(10);
  }
  throw new Error(`no build started within ${timeoutMs / 1000} s (instances: ${s.instanceIds().join(', ')})`);
}

/** Processes whose command line names a path under the instance's directory (its postgres, a pgbackrest restore). */
function processesOf(instanceId: string): string[] {
  const dir = path.join(platformDir(), 'instances', instanceId);
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((pid) => {
    const cmdline = commandLineOf(Number(pid));
    return cmdline?.some((arg) => arg.includes(dir)) ? [`${pid}: ${cmdline.join(' ')}`] : [];
  });
}

function assertNothingLeft(instanceId: string): void {
  assert.deepEqual(s.instanceIds(), ['production'], 'the registry holds production only');
  const instancesDir = path.join(platformDir(), 'instances');
  assert.deepEqual(existsSync(instancesDir) ? readdirSync(instancesDir) : [], [], 'no data directory is left');
  assert.deepEqual(processesOf(instanceId), [], 'no process of the instance is left');
}

async function abortDuringBuild(scenario: keyof typeof scenarios, fields: Record<string, unknown>, buildStep: RegExp, stop: 'abort' | 'cancel' = 'abort') {
  const input = scenarios[scenario].input.parse({ startedBy: 'alice', ...fields }) as never;
  const handle = await startRunbook(s.client, { workflowType: scenarios[scenario].workflowType, scenario, input, taskQueue: s.taskQueue });
  const instanceId = await buildInFlight();
  assert.ok(processesOf(instanceId).some((p) => p.includes('restore')), 'a pgBackRest restore is running for the instance');
  if (stop === 'abort') await handle.executeUpdate(abortUpdate, { args: [{ by: 'carol', reason: 'wrong incident: stop the build' }] });
  else await handle.cancel();
  const result = await runbookOutcome(s.client, handle.workflowId).catch(async () => (await handle.query('status')) as Awaited<ReturnType<typeof runbookOutcome>>);
  assert.equal(result.verdict, stop === 'abort' ? 'aborted' : 'cancelled', result.verdictDetail);
  const build = result.timeline.find((e) => buildStep.test(e.step));
  assert.equal(build?.outcome, 'cancelled', `the build was stopped half-way: ${JSON.stringify(build)}`);
  const cleanup = result.compensations.find((c) => c.step === build!.step);
  assert.equal(cleanup?.outcome, 'succeeded', `the build's cleanup ran after it stopped: ${JSON.stringify(result.compensations)}`);
  assertNothingLeft(instanceId);
  return result;
}

test('abort during a point-in-time restore (accidental deletion) leaves no instance, data directory or process', { timeout: 300_000 }, async () => {
  await abortDuringBuild('accidental-deletion', { incidentId: 'INC-ABORT-PITR', targetTime: new Date(Date.now() - 1000).toISOString() }, /^restore production to .* into a new instance$/);
});

test('abort during a replica build (region-outage drill) leaves nothing', { timeout: 300_000 }, async () => {
  await abortDuringBuild('region-outage', { incidentId: 'DRILL-ABORT-REPLICA', mode: 'drill' }, /^drill: build an isolated replica of production$/);
});

test('cancel during a snapshot restore (failed-migration drill copy) leaves nothing', { timeout: 300_000 }, async () => {
  // The application is live: the drill's rollback needs a current schema version to plan against.
  const writer = startSteadyWriter({ connectionString: s.productionUrl, ratePerSecond: 10 });
  await sleep(1000);
  await writer.stop();
  await abortDuringBuild('failed-migration', { incidentId: 'DRILL-ABORT-COPY', mode: 'drill', toVersion: '0001', migrationStartedAt: new Date(Date.now() - 60_000).toISOString() }, /^restore the safety backup .* into a new instance for the drill$/, 'cancel');
});
