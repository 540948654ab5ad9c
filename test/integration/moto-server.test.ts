import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { CreateDBInstanceCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, GetChangeCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { PrerequisiteError } from '../../lib/prerequisite-error';
import { startMotoServer, type MotoServer } from '../../stack/moto-server';
import { startInTempDir } from '../support/temp-server';

// moto answers the AWS APIs for real requests; it has no database engine and no pending states,
// so these tests prove requests, responses and state kept between calls, nothing about timing or data.
let moto: MotoServer & { stateDir: string };

before(async () => {
  moto = await startInTempDir('dr-moto-', (stateDir) => startMotoServer({ stateDir }));
});

after(() => moto?.stop());

beforeEach(() => moto.reset());

test('moto: RDS creates and describes an instance, and a missing one is DBInstanceNotFound', async () => {
  const rds = new RDSClient(moto.clientConfig('us-east-1'));
  await rds.send(new CreateDBInstanceCommand({
    DBInstanceIdentifier: 'mita-production-primary', Engine: 'postgres', EngineVersion: '15.8', DBInstanceClass: 'db.r6g.large',
    AllocatedStorage: 100, MasterUsername: 'mita_admin', MasterUserPassword: 'not-a-real-password', MultiAZ: true,
  }));
  const described = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'mita-production-primary' }));
  const instance = described.DBInstances?.[0];
  assert.equal(instance?.DBInstanceIdentifier, 'mita-production-primary');
  assert.equal(instance?.Engine, 'postgres');
  assert.equal(instance?.MultiAZ, true);
  assert.equal(instance?.DBInstanceStatus, 'available'); // at once: moto has no state machine
  await assert.rejects(rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'no-such-instance' })), { name: 'DBInstanceNotFoundFault' });

  // Regions are separate accounts' worth of state.
  const west = new RDSClient(moto.clientConfig('us-west-2'));
  assert.deepEqual((await west.send(new DescribeDBInstancesCommand({}))).DBInstances, []);
});

test('moto: S3 keeps every version of an object in a versioned bucket and returns each by VersionId', async () => {
  const s3 = new S3Client(moto.s3ClientConfig());
  await s3.send(new CreateBucketCommand({ Bucket: 'mita-dr-evidence' }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'mita-dr-evidence', VersioningConfiguration: { Status: 'Enabled' } }));
  const first = await s3.send(new PutObjectCommand({ Bucket: 'mita-dr-evidence', Key: 'reports/drill.json', Body: '{"run":1}' }));
  const second = await s3.send(new PutObjectCommand({ Bucket: 'mita-dr-evidence', Key: 'reports/drill.json', Body: '{"run":2}' }));
  assert.ok(first.VersionId && second.VersionId && first.VersionId !== second.VersionId);

  const text = async (versionId?: string) => (await s3.send(new GetObjectCommand({ Bucket: 'mita-dr-evidence', Key: 'reports/drill.json', VersionId: versionId }))).Body?.transformToString();
  assert.equal(await text(), '{"run":2}');
  assert.equal(await text(first.VersionId), '{"run":1}');
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'mita-dr-evidence', Prefix: 'reports/' }));
  assert.deepEqual(versions.Versions?.map((v) => v.VersionId).sort(), [first.VersionId, second.VersionId].sort());
});

test('moto: Route 53 creates a hosted zone, UPSERTs a CNAME, reports the change INSYNC and lists the record', async () => {
  const route53 = new Route53Client(moto.clientConfig());
  const zone = await route53.send(new CreateHostedZoneCommand({ Name: 'mita.internal', CallerReference: 'dr-runbooks-test-zone' }));
  const zoneId = zone.HostedZone?.Id;
  assert.ok(zoneId);
  const upsert = (target: string) => route53.send(new ChangeResourceRecordSetsCommand({
    HostedZoneId: zoneId,
    ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'db.mita.internal', Type: 'CNAME', TTL: 30, ResourceRecords: [{ Value: target }] } }] },
  }));
  await upsert('mita-production-primary.abc.us-east-1.rds.amazonaws.com');
  const change = await upsert('mita-production-dr-replica.abc.us-west-2.rds.amazonaws.com');
  assert.equal((await route53.send(new GetChangeCommand({ Id: change.ChangeInfo?.Id }))).ChangeInfo?.Status, 'INSYNC');

  const records = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  const cname = records.ResourceRecordSets?.find((r) => r.Type === 'CNAME' && r.Name === 'db.mita.internal.');
  assert.deepEqual(cname?.ResourceRecords, [{ Value: 'mita-production-dr-replica.abc.us-west-2.rds.amazonaws.com' }]);
});

test('moto: Secrets Manager stages a new version as AWSPENDING, moves AWSCURRENT to it and keeps the old one as AWSPREVIOUS', async () => {
  const secrets = new SecretsManagerClient(moto.clientConfig());
  const created = await secrets.send(new CreateSecretCommand({ Name: 'mita/db-app', SecretString: 'password-1' }));
  const pending = await secrets.send(new PutSecretValueCommand({ SecretId: 'mita/db-app', SecretString: 'password-2', VersionStages: ['AWSPENDING'] }));
  const get = (stage: string) => secrets.send(new GetSecretValueCommand({ SecretId: 'mita/db-app', VersionStage: stage }));
  assert.equal((await get('AWSCURRENT')).SecretString, 'password-1');
  assert.equal((await get('AWSPENDING')).SecretString, 'password-2');

  await secrets.send(new UpdateSecretVersionStageCommand({ SecretId: 'mita/db-app', VersionStage: 'AWSCURRENT', MoveToVersionId: pending.VersionId, RemoveFromVersionId: created.VersionId }));
  const current = await get('AWSCURRENT');
  assert.equal(current.SecretString, 'password-2');
  assert.equal(current.VersionId, pending.VersionId);
  const previous = await get('AWSPREVIOUS');
  assert.equal(previous.SecretString, 'password-1');
  assert.equal(previous.VersionId, created.VersionId);
});

test('moto: reset() forgets every resource, so each test starts from an empty account', async () => {
  const s3 = new S3Client(moto.s3ClientConfig());
  const rds = new RDSClient(moto.clientConfig());
  await s3.send(new CreateBucketCommand({ Bucket: 'left-behind' }));
  await rds.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: 'left-behind', Engine: 'postgres', DBInstanceClass: 'db.t4g.micro', AllocatedStorage: 20, MasterUsername: 'admin_user', MasterUserPassword: 'not-a-real-password' }));
  assert.deepEqual((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name), ['left-behind']);

  await moto.reset();
  assert.deepEqual((await s3.send(new ListBucketsCommand({}))).Buckets ?? [], []);
  assert.deepEqual((await rds.send(new DescribeDBInstancesCommand({}))).DBInstances, []);
});

test('a moto server left running by a killed run is stopped by the next start in the same state directory', async () => {
  const dir = path.join(moto.stateDir, 'killed-run');
  // A child starts moto, then dies by SIGKILL: no exit handler runs, its server is orphaned.
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    const { startMotoServer } = await import(${JSON.stringify(path.resolve(__dirname, '../../stack/moto-server.ts'))});
    await startMotoServer({ stateDir: ${JSON.stringify(dir)} });
    process.kill(process.pid, 'SIGKILL');
  `], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.signal, 'SIGKILL', child.stderr);
  const orphan = Number(readFileSync(path.join(dir, 'pids', 'moto.pid'), 'utf8'));
  assert.ok(existsSync(`/proc/${orphan}`), 'the orphaned server still runs');

  const next = await startMotoServer({ stateDir: dir });
  try {
    assert.ok(!existsSync(`/proc/${orphan}`) || /\) Z /.test(readFileSync(`/proc/${orphan}/stat`, 'utf8')), 'the orphan was stopped');
  } finally {
    await next.stop();
  }
});

test('a DR_MOTO_SERVER that is not an executable is a PrerequisiteError naming the variable', async () => {
  const saved = process.env.DR_MOTO_SERVER;
  process.env.DR_MOTO_SERVER = path.join(moto.stateDir, 'no-such-moto_server');
  try {
    await assert.rejects(startMotoServer({ stateDir: path.join(moto.stateDir, 'unused') }), (error: unknown) =>
      error instanceof PrerequisiteError && /DR_MOTO_SERVER/.test(error.what) && /moto_server/.test(error.fix));
  } finally {
    if (saved === undefined) delete process.env.DR_MOTO_SERVER;
    else process.env.DR_MOTO_SERVER = saved;
  }
});
