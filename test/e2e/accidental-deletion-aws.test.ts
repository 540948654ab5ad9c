import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startRunbook } from '../../client/runbooks';
import { startSteadyWriter } from '../../demo/steady-writer';
import { startMotoServer, type MotoServer } from '../../stack/moto-server';
import { approveUpdate } from '../../workflows/messages';
import { recoverFromAccidentalDeletionInput } from '../../workflows/recover-from-accidental-deletion';
import { onAwsFamily, prepareAwsAccount } from '../support/aws-family';
import { createSeedRdsInstances, primaryIdentifier } from '../support/moto-rds';
import { localTwinResolver } from '../support/rds-twin';
import { gateIsOpen, runbookOutcome, startScenarioStack, waitForRunbookStatus, type ScenarioStack } from '../support/scenario-stack';
import { startInTempDir } from '../support/temp-server';

// The same runbook as on the embedded default, with only the config changed to the aws family: RDS for
// the platform, S3 for the diffs and the report, Secrets Manager for the passwords, all answered by moto.
// moto runs no database, so what the RDS point-in-time restore holds is a real local PostgreSQL that
// pgBackRest restored to the same target, answering for the moto instance's endpoint.
let s: ScenarioStack;
let moto: MotoServer & { stateDir: string };
let taskQueue: string;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  s = await startScenarioStack();
  moto = await startInTempDir('dr-moto-', (stateDir) => startMotoServer({ stateDir, recordRequests: true }));
  await createSeedRdsInstances(moto);
  // The operator's secrets, now in Secrets Manager instead of files beside the config, and the evidence bucket.
  await prepareAwsAccount(moto, s.config.secretsDir!);
  taskQueue = await s.startWorker(onAwsFamily(moto), { rdsEndpointResolver: localTwinResolver(s.platform) });
});

after(async () => {
  await moto?.stop();
  await s?.stop();
});

test('recoverFromAccidentalDeletion on AWS config — RDS, S3 and Secrets Manager on moto, the restored data on a real local PostgreSQL: the deleted rows come back, later writes stay, the RDS instance is removed', async () => {
  const writer = startSteadyWriter({ connectionString: s.productionUrl, ratePerSecond: 10 });
  await sleep(1500);
  const doomed = await s.production(async (db) => (await db.query<{ id: string }>('SELECT id FROM transactions WHERE id % 5 = 0 AND id <= 400 ORDER BY id')).rows.map((r) => r.id));
  const beforeDeletion = new Date().toISOString();
  await sleep(1100);
  const deletedAt = new Date();
  await s.production((db) => db.query('DELETE FROM transactions WHERE id % 5 = 0 AND id <= 400'));
  await sleep(1000);
  await writer.stop();
  const laterIds = await s.production(async (db) => (await db.query<{ id: string }>('SELECT id FROM transactions WHERE created_at > $1', [deletedAt])).rows.map((r) => r.id));
  assert.ok(laterIds.length > 0, 'rows were written after the deletion');

  const input = recoverFromAccidentalDeletionInput.parse({ incidentId: 'INC-AWS-1', startedBy: 'alice', targetTime: beforeDeletion });
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromAccidentalDeletion', scenario: 'accidental-deletion', input, taskQueue });
  const waiting = await waitForRunbookStatus(s.client, handle.workflowId, gateIsOpen('repair'), 240_000);
  const restoreStep = waiting.timeline.find((t) => t.step.startsWith('restore production to'));
  assert.match(restoreStep?.detail ?? '', /RDS restored to /, `the timeline says what RDS did: ${restoreStep?.detail}`);
  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'repair', approver: 'bob', comment: 'counts match' }] });
  const result = await runbookOutcome<{ inserted: number; recoveredInstance: string }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.equal(result.output?.inserted, doomed.length);
  assert.equal(await s.production(async (db) => (await db.query('SELECT count(*)::int n FROM transactions WHERE id = ANY($1)', [doomed])).rows[0].n), doomed.length, 'every deleted row is back');
  assert.equal(await s.production(async (db) => (await db.query('SELECT count(*)::int n FROM transactions WHERE id = ANY($1)', [laterIds])).rows[0].n), laterIds.length, 'later writes survive');

  // RDS, as moto recorded it: one restore to the target, tagged with the run; then the cleanup deleted it.
  const restores = moto.requests().filter((r) => r.action === 'RestoreDBInstanceToPointInTime');
  assert.equal(restores.length, 1);
  assert.equal(new Date(restores[0]!.params.RestoreTime!).toISOString(), new Date(beforeDeletion).toISOString());
  const recovered = result.output!.recoveredInstance;
  assert.equal(restores[0]!.params.TargetDBInstanceIdentifier, recovered);
  assert.ok(Object.entries(restores[0]!.params).some(([k, v]) => /^Tags\.Tag\.\d+\.Value$/.test(k) && v === 'INC-AWS-1'), 'tagged with the incident');
  assert.equal(moto.requests().filter((r) => r.action === 'DeleteDBInstance' && r.params.DBInstanceIdentifier === recovered).length, 1);
  assert.deepEqual((await new RDSClient(moto.clientConfig()).send(new DescribeDBInstancesCommand({}))).DBInstances?.map((d) => d.DBInstanceIdentifier), [primaryIdentifier]);

  // The report and the diffs went to S3; the report is evidence, locked in COMPLIANCE mode.
  const s3 = new S3Client(moto.s3ClientConfig());
  const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: 'mita-dr-evidence', Prefix: 'dr-runbooks/production/' }))).Contents ?? []).map((o) => o.Key!);
  assert.ok(keys.includes(`dr-runbooks/production/reports/${handle.workflowId}.json`), keys.join(', '));
  assert.ok(keys.some((k) => k.startsWith(`dr-runbooks/production/diffs/production/${handle.workflowId}/`)), `the diffs: ${keys.join(', ')}`);
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'mita-dr-evidence', Key: `dr-runbooks/production/reports/${handle.workflowId}.json` }));
  assert.equal(head.ObjectLockMode, 'COMPLIANCE');
  await s.platform.deleteInstance(recovered); // the local twin that answered for it
});
