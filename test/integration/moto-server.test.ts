import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { CreateDBInstanceCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, GetChangeCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { startMotoServer, type MotoServer } from '../../stack/moto-server';

// moto answers the AWS APIs for real requests; it has no database engine and no pending states,
// so these tests prove requests, responses and state kept between calls, nothing about timing or data.
let moto: MotoServer;
let stateDir: string;

before(async () => {
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'dr-moto-'));
  moto = await startMotoServer({ stateDir });
});

after(async () => {
  await moto?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

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
