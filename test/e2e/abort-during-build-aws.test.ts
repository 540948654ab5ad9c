import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { startRunbook } from '../../client/runbooks';
import { startSteadyWriter } from '../../demo/steady-writer';
import { generateTotpSecret, totpCode } from '../../lib/totp';
import { startMotoServer, type MotoServer } from '../../stack/moto-server';
import { defaultTotpSecretName } from '../../activities/vote-proofs';
import { abortUpdate } from '../../workflows/messages';
import { scenarios } from '../../workflows/scenarios';
import { onAwsFamily, prepareAwsAccount } from '../support/aws-family';
import { createSeedRdsInstances, primaryIdentifier } from '../support/moto-rds';
import { runbookOutcome, startScenarioStack, type ScenarioStack } from '../support/scenario-stack';
import { startInTempDir } from '../support/temp-server';

// Whatever stops a runbook leaves nothing it built (issue 11), on the aws family: an abort while the RDS
// adapter waits for a restore it asked for deletes the instance RDS is building. moto answers the RDS API
// (the restore asked for, the instance it lists, its deletion); it runs no database, so the database the
// adapter waits to reach is held unreachable (a restore still running) and no real PostgreSQL is built for
// it: the local platform's registry proves that the real side holds nothing but production. The data
// directories and processes a real restore leaves are proven on the local platform (abort-during-build.test.ts).
// The abort is the incident commander's, proven by a one-time code whose secret is in Secrets Manager.
let s: ScenarioStack;
let moto: MotoServer & { stateDir: string };
let taskQueue: string;
const commander = 'carol';
const commanderSecret = generateTotpSecret();
let lastCodeAt = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  s = await startScenarioStack({ users: 100, transactionsPerUser: 20 });
  moto = await startInTempDir('dr-moto-', (stateDir) => startMotoServer({ stateDir, recordRequests: true }));
  await createSeedRdsInstances(moto);
  await prepareAwsAccount(moto, s.config.secretsDir!, { [defaultTotpSecretName(commander)]: commanderSecret });
  const aws = onAwsFamily(moto);
  taskQueue = await s.startWorker((config) => ({
    ...aws(config),
    // A real environment: only the incident commander aborts, with a one-time code.
    approvals: { ...config.approvals, incidentCommanders: [commander], abort: { authentication: 'totp' } },
  }), {
    // Production is the local production cluster; whatever a runbook builds is a database still starting.
    rdsEndpointResolver: async (facts) => {
      if (facts.instanceId !== 'production') return { host: '127.0.0.1', port: 1 };
      const connection = await s.platform.connectionFor('production');
      return connection && { host: connection.host, port: connection.port };
    },
  });
});

after(async () => {
  await moto?.stop();
  await s?.stop();
});

const rdsInstances = async () => ((await new RDSClient(moto.clientConfig()).send(new DescribeDBInstancesCommand({}))).DBInstances ?? []).map((d) => d.DBInstanceIdentifier!).sort();

/** A code of a time step no earlier abort used (a code counts once). */
function abortCode(): string {
  const at = Math.max(Date.now(), lastCodeAt + 30_000);
  lastCodeAt = at;
  return totpCode(commanderSecret, at);
}

/** Waits until RDS lists the instance the runbook asked for (the adapter is then waiting for it), and returns its id. */
async function restoreAskedFor(timeoutMs = 180_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const built = (await rdsInstances()).filter((id) => id !== primaryIdentifier);
    if (built.length) return built[0]!;
    await sleep(200);
  }
  throw new Error(`RDS lists no instance built by the runbook within ${timeoutMs / 1000} s`);
}

async function abortDuringRestore(scenario: keyof typeof scenarios, fields: Record<string, unknown>, restoreAction: string, buildStep: RegExp) {
  const input = scenarios[scenario].input.parse({ startedBy: 'alice', ...fields }) as never;
  const handle = await startRunbook(s.client, { workflowType: scenarios[scenario].workflowType, scenario, input, taskQueue });
  const instanceId = await restoreAskedFor();
  await sleep(1500); // the adapter is in its wait: the instance is there, its database does not answer
  assert.deepEqual(await handle.executeUpdate(abortUpdate, { args: [{ by: commander, reason: 'wrong incident: stop the restore', code: abortCode() } as never] }), { accepted: true });
  const result = await runbookOutcome(s.client, handle.workflowId);
  assert.equal(result.verdict, 'aborted', result.verdictDetail);
  assert.equal(result.abort?.proof?.method, 'totp', 'the abort was proven by the one-time code');
  const build = result.timeline.find((e) => buildStep.test(e.step));
  assert.equal(build?.outcome, 'cancelled', `the restore was stopped while RDS built it: ${JSON.stringify(build)}`);
  const cleanup = result.compensations.find((c) => c.step === build!.step);
  assert.equal(cleanup?.outcome, 'succeeded', `the restore's cleanup ran after it stopped: ${JSON.stringify(result.compensations)}`);

  // moto: the restore was asked for once, the instance it built deleted once, and RDS lists the primary only.
  const asked = moto.requests().filter((r) => r.action === restoreAction);
  assert.deepEqual(asked.map((r) => r.params.TargetDBInstanceIdentifier ?? r.params.DBInstanceIdentifier), [instanceId], `one ${restoreAction}`);
  assert.equal(moto.requests().filter((r) => r.action === 'DeleteDBInstance' && r.params.DBInstanceIdentifier === instanceId).length, 1, 'the built instance was deleted once');
  assert.deepEqual(await rdsInstances(), [primaryIdentifier], 'RDS lists no instance the runbook built');
  // The real PostgreSQL side: the local platform (what answers for production) registered nothing new.
  assert.deepEqual(s.instanceIds(), ['production'], 'the local registry holds production only');
}

test('abort (incident commander, one-time code) while RDS restores production to a point in time — moto: the restored DB instance is deleted, RDS lists the primary only; real PostgreSQL: no instance was registered beside production', { timeout: 300_000 }, async () => {
  await abortDuringRestore('accidental-deletion', { incidentId: 'INC-AWS-ABORT-PITR', targetTime: new Date(Date.now() - 1000).toISOString() }, 'RestoreDBInstanceToPointInTime', /^restore production to .* into a new instance$/);
});

test('abort (incident commander, one-time code) while RDS restores the safety snapshot for a failed-migration drill — moto: the DB instance restored from the snapshot is deleted, RDS lists the primary only; real PostgreSQL: no instance was registered beside production', { timeout: 300_000 }, async () => {
  // The application is live: the drill's rollback needs a current schema version to plan against.
  const writer = startSteadyWriter({ connectionString: s.productionUrl, ratePerSecond: 10 });
  await sleep(1000);
  await writer.stop();
  await abortDuringRestore('failed-migration', { incidentId: 'DRILL-AWS-ABORT-SNAPSHOT', mode: 'drill', toVersion: '0001', migrationStartedAt: new Date(Date.now() - 60_000).toISOString() }, 'RestoreDBInstanceFromDBSnapshot', /^restore the safety backup .* into a new instance for the drill$/);
});
