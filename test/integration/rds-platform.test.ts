import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CreateDBInstanceCommand, DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import YAML from 'yaml';
import { createDatabaseHealthActivities } from '../../activities/database-health';
import { instanceIdFor, createPlatformActivities, type PlatformActivities } from '../../activities/platform-activities';
import type { DatabasePlatform, OperationProgress } from '../../activities/ports/database-platform';
import { FailureType } from '../../contracts/failure-types';
import { startMotoServer, type MotoServer } from '../../stack/moto-server';
import { startTemporalServer, type TemporalServer } from '../../stack/temporal-server';
import { createAdapters, type Adapters } from '../../worker/adapters';
import { loadWorkerConfig, type WorkerConfig } from '../../worker/config';
import { createDatabaseConnections } from '../../worker/database-connections';
import { query, runActivity } from '../support/local-platform';
import { startLocalPlatformStack, type LocalPlatformStack } from '../support/local-platform-stack';
import { createSeedRdsInstances, primaryIdentifier, replicaIdentifier, seedRdsPlatform } from '../support/moto-rds';
import { quietTemporalLogs } from '../support/quiet-logs';
import { startPlatformWorker } from '../support/platform-worker';
import { localTwinResolver } from '../support/rds-twin';
import { startSteadyWriter } from '../support/steady-writer';
import { startInTempDir } from '../support/temp-server';

// The RDS DatabasePlatform wired from a worker config, as a worker runs it. Every RDS and Secrets Manager
// call is answered by moto (which runs no database, reports every instance available at once and never
// detaches a promoted replica); what is inside an instance is a real local PostgreSQL that pgBackRest
// built for the same operation, answering for the moto instance's endpoint. Test names say which is which.
let moto: MotoServer & { stateDir: string };
let local: LocalPlatformStack;
let configFile: string;
let config: WorkerConfig;
let adapters: Adapters;
let activities: PlatformActivities;
/** Instances whose database does not answer yet (a restore still starting, as RDS would have it). */
const notAnsweringYet = new Set<string>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'testing'; // moto takes any credentials; the default chain reads these
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  moto = await startInTempDir('dr-moto-', (stateDir) => startMotoServer({ stateDir, recordRequests: true }));
  local = await startLocalPlatformStack({ seed: { users: 20, transactionsPerUser: 10 } });
  await local.platform.takeBackup({ sourceInstanceId: 'production', type: 'full' });
  await createSeedRdsInstances(moto, { replica: true });
  // The master password lives in Secrets Manager: the data path reads it from there.
  await new SecretsManagerClient(moto.clientConfig()).send(new CreateSecretCommand({ Name: 'mita/test/db-master-password', SecretString: local.production.password }));
  configFile = path.join(moto.stateDir, 'worker.yaml');
  writeFileSync(configFile, YAML.stringify({
    environment: 'test',
    aws: { region: 'us-east-1', endpoint: moto.endpoint },
    databases: { production: { host: '127.0.0.1', port: local.production.port, database: local.databaseName, user: 'postgres', passwordSecret: 'db-master-password' } },
    platform: {
      rds: {
        instances: {
          production: { identifier: primaryIdentifier, region: 'us-east-1' },
          'dr-replica': { identifier: `arn:aws:rds:us-west-2:123456789012:db:${replicaIdentifier}`, database: 'production' },
        },
        instanceClass: 'db.r6g.xlarge',
        regions: { 'us-east-1': { parameterGroup: 'default.postgres15', securityGroupIds: ['sg-0a1b2c3d4e5f60718'] } },
        tags: { team: 'platform' },
        finalSnapshot: 'take',
        pollIntervalSeconds: 0.2,
        waitTimeoutSeconds: 300,
        connectTimeoutSeconds: 2,
      },
    },
    secretStore: { secretsManager: { namePrefix: 'mita/test/' } },
  }));
  config = loadWorkerConfig(configFile);
  const twin = localTwinResolver(local.platform);
  adapters = createAdapters(config, { rdsEndpointResolver: async (facts) => (notAnsweringYet.has(facts.instanceId) ? { host: '127.0.0.1', port: 1 } : twin(facts)) });
  activities = createPlatformActivities(adapters.databasePlatform);
});

after(async () => {
  await local?.stop();
  await moto?.stop();
});

const callsOf = (action: string) => moto.requests().filter((r) => r.action === action);
const tagsIn = (params: Record<string, string>) => Object.fromEntries(Object.entries(params).filter(([k]) => /^Tags\.Tag\.\d+\.Key$/.test(k)).map(([k, v]) => [v, params[k.replace(/Key$/, 'Value')]]));

async function nonRetryable(promise: Promise<unknown>, type: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => e instanceof ApplicationFailure && e.type === type && e.nonRetryable === true && pattern.test(e.message));
}

test('moto + real PostgreSQL: a point-in-time restore asks RDS once with the time, the instance class, network and tags; the data path reaches it with the password from Secrets Manager', async () => {
  const appUrl = local.production.url(local.databaseName);
  const writer = await startSteadyWriter(appUrl, 20);
  await sleep(1500);
  const target = (await query<{ t: Date }>(appUrl, 'SELECT clock_timestamp() AS t'))[0]!.t;
  await sleep(1200);
  await writer.stop();
  const workflowId = 'rds-pitr-INC-2041';
  const instanceId = instanceIdFor(workflowId, 'pitr');
  notAnsweringYet.add(instanceId);
  setTimeout(() => notAnsweringYet.delete(instanceId), 1500);
  const before = callsOf('RestoreDBInstanceToPointInTime').length;
  const { result, heartbeats } = runActivity(activities, 'restoreToPointInTime', workflowId, { database: 'production', step: 'pitr', incidentId: 'INC-2041', target: { kind: 'time', time: target.toISOString() } });
  const restored = await result;

  const calls = callsOf('RestoreDBInstanceToPointInTime').slice(before);
  assert.equal(calls.length, 1);
  const params = calls[0]!.params;
  assert.equal(params.SourceDBInstanceIdentifier, primaryIdentifier);
  assert.equal(params.TargetDBInstanceIdentifier, instanceId);
  assert.equal(new Date(params.RestoreTime!).toISOString(), target.toISOString());
  assert.equal(params.DBInstanceClass, 'db.r6g.xlarge');
  assert.equal(params.DBParameterGroupName, 'default.postgres15');
  assert.equal(params['VpcSecurityGroupIds.VpcSecurityGroupId.1'], 'sg-0a1b2c3d4e5f60718');
  assert.equal(params.DeletionProtection, 'false');
  assert.deepEqual(tagsIn(params), {
    team: 'platform', 'dr-runbooks:created-by': 'dr-runbooks', 'dr-runbooks:origin': 'pointInTime', 'dr-runbooks:source': 'production',
    'dr-runbooks:backup': `automated-backups:${primaryIdentifier}`, 'dr-runbooks:recovery-target': `time:${target.toISOString()}`, 'dr-runbooks:restore-time': target.toISOString(),
    'dr-runbooks:workflow-id': workflowId, 'dr-runbooks:incident-id': 'INC-2041',
  });

  // While the database did not answer yet, the heartbeats said so, with RDS's status and the time waited.
  const waiting = heartbeats.filter((h: OperationProgress) => h.phase === 'starting');
  assert.ok(waiting.length > 0, JSON.stringify(heartbeats));
  assert.match(waiting[0]!.status ?? '', /^available, the database does not answer yet$/);
  assert.equal(typeof waiting.at(-1)!.elapsedSeconds, 'number');
  assert.match(waiting[0]!.message ?? '', new RegExp(`^${instanceId}: available, the database does not answer yet, \\d+ s$`));

  assert.equal(restored.instance.instanceId, instanceId);
  assert.equal(restored.instance.role, 'primary');
  assert.equal(restored.instance.acceptingConnections, true);
  assert.match(restored.instance.endpoint.host, new RegExp(`^${instanceId}\\..*\\.us-east-1\\.rds\\.amazonaws\\.com$`), 'the endpoint RDS reports, not the local one');
  assert.ok(restored.recoveredTo.lastCommitAt && Date.parse(restored.recoveredTo.lastCommitAt) <= target.getTime(), JSON.stringify(restored.recoveredTo));
  assert.ok(restored.dataLossWindowSeconds !== undefined && restored.dataLossWindowSeconds >= 0);
  assert.ok(!JSON.stringify(restored).includes(local.production.password), 'no password in the result');

  // Validation connects to the endpoint the platform returns, signing in with the secret store's password.
  const databases = createDatabaseConnections(config, adapters.secrets, adapters.databasePlatform);
  try {
    const health = await createDatabaseHealthActivities(databases).checkDatabaseHealth({ database: instanceId });
    const expected = (await query<{ n: number }>(appUrl, 'SELECT count(*)::int AS n FROM transactions WHERE created_at <= $1', [target]))[0]!.n;
    assert.equal(health.transactionCount, expected, 'exactly the transactions committed by the target');
  } finally {
    await databases.close();
  }
  assert.deepEqual(await adapters.databasePlatform.deleteInstance(instanceId), { deleted: true });
});

test('moto: a target outside the restorable window is refused with the window, before anything is created; a future one before any AWS call', async () => {
  const created = (await new RDSClient(moto.clientConfig('us-east-1')).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: primaryIdentifier }))).DBInstances![0]!.InstanceCreateTime!;
  const before = moto.requests().length;
  const early = new Date(created.getTime() - 3600_000).toISOString();
  const { result } = runActivity(activities, 'restoreToPointInTime', 'rds-window', { database: 'production', step: 'pitr', target: { kind: 'time', time: early } });
  await nonRetryable(result, FailureType.RecoveryTargetOutsideWindow, new RegExp(`recovery target ${early.replace(/\./g, '\\.')} is outside the restorable window of production \\(mita-production-primary\\): \\S+ to \\S+; it is before the earliest restorable time \\(oldest automated snapshot\\)`));
  const made = moto.requests().slice(before).map((r) => r.action);
  assert.ok(made.length > 0 && made.every((a) => a?.startsWith('Describe')), `only reads: ${made.join(', ')}`);

  const beforeFuture = moto.requests().length;
  const future = new Date(Date.now() + 600_000).toISOString();
  await nonRetryable(runActivity(activities, 'restoreToPointInTime', 'rds-window', { database: 'production', step: 'pitr', target: { kind: 'time', time: future } }).result, FailureType.RecoveryTargetOutsideWindow, /is in the future: the restorable window of production ends at its latest restorable time/);
  assert.deepEqual(moto.requests().slice(beforeFuture), [], 'no AWS call at all');
});

test('moto: deleting the enrolled production instance, the enrolled DR replica, or an instance dr-runbooks did not build is refused, and no DeleteDBInstance is sent', async () => {
  const rds = new RDSClient(moto.clientConfig('us-east-1'));
  await rds.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: 'someone-elses-db', Engine: 'postgres', DBInstanceClass: 'db.t4g.micro', AllocatedStorage: 20, MasterUsername: 'x_admin', MasterUserPassword: 'not-a-real-password' }));
  const before = callsOf('DeleteDBInstance').length;
  await nonRetryable(runActivity(activities, 'deleteDatabaseInstance', 'rds-delete', { instanceId: 'production' }).result, 'PlatformRequestError', /instance "production" \(mita-production-primary in us-east-1\) is protected: it is the enrolled instance "production".*A runbook never deletes it/);
  await nonRetryable(runActivity(activities, 'deleteDatabaseInstance', 'rds-delete', { instanceId: 'dr-replica' }).result, 'PlatformRequestError', /is protected: it is the enrolled instance "dr-replica"/);
  await nonRetryable(runActivity(activities, 'deleteDatabaseInstance', 'rds-delete', { instanceId: 'someone-elses-db' }).result, 'PlatformRequestError', /is protected: it was not built by dr-runbooks \(no dr-runbooks:created-by tag\)/);
  assert.equal(callsOf('DeleteDBInstance').length, before);
  assert.equal((await adapters.databasePlatform.describeInstance('production')).status, 'available');
});

test('moto: AWS answers map to the catalogue: an unknown instance is PlatformNotFound, an id held by an instance not built by dr-runbooks PlatformAlreadyExists; neither retried', async () => {
  await nonRetryable(runActivity(activities, 'describeDatabaseInstance', 'rds-errors', { instanceId: 'no-such-instance' }).result, FailureType.PlatformNotFound, /instance "no-such-instance" does not exist in RDS \(looked in us-east-1, us-west-2\)/);
  const rds = new RDSClient(moto.clientConfig('us-east-1'));
  const squatted = instanceIdFor('rds-squat', 'pitr');
  await rds.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: squatted, Engine: 'postgres', DBInstanceClass: 'db.t4g.micro', AllocatedStorage: 20, MasterUsername: 'x_admin', MasterUserPassword: 'not-a-real-password' }));
  const before = callsOf('RestoreDBInstanceToPointInTime').length;
  await nonRetryable(runActivity(activities, 'restoreToPointInTime', 'rds-squat', { database: 'production', step: 'pitr', target: { kind: 'latest' } }).result, FailureType.PlatformAlreadyExists, /already exists and was not built by dr-runbooks: it is not taken as this step's instance/);
  assert.equal(callsOf('RestoreDBInstanceToPointInTime').length, before);

  // A subnet group that is not in the region: RDS's refusal, named, not retried, nothing built.
  const misconfigured = createPlatformActivities(createAdapters({ ...config, platform: { rds: { ...config.platform!.rds!, regions: { 'us-east-1': { subnetGroup: 'mita-production-db' } } } } }).databasePlatform);
  const id = instanceIdFor('rds-subnet', 'pitr');
  await nonRetryable(runActivity(misconfigured, 'restoreToPointInTime', 'rds-subnet', { database: 'production', step: 'pitr', target: { kind: 'latest' } }).result, FailureType.PlatformNotFound, /rds:RestoreDBInstanceToPointInTime answered DBSubnetGroupNotFoundFault: Subnet Group mita-production-db not found/);
  await assert.rejects(adapters.databasePlatform.describeInstance(id), /does not exist in RDS/);
});

test('moto + real PostgreSQL: the cross-region replica enrolled by ARN is promoted in its own region; the retried step promotes nothing twice', async () => {
  // The DR replica's data: a real streaming replica of production, answering for mita-production-dr-replica.
  await local.platform.createReplica({ instanceId: 'dr-replica', sourceInstanceId: 'production' });
  // The region-outage runbook's check before it promotes: the DR replica is available and a replica of production.
  const standby = await runActivity(activities, 'waitUntilDatabaseAvailable', 'rds-region-outage', { instanceId: 'dr-replica', timeoutSeconds: 60 }).result;
  assert.deepEqual([standby.role, standby.origin.kind, (standby.origin as { sourceInstanceId: string }).sourceInstanceId], ['replica', 'replica', 'production']);
  const before = await adapters.databasePlatform.describeInstance('dr-replica');
  assert.equal(before.role, 'replica');
  assert.deepEqual(before.origin, { kind: 'replica', sourceInstanceId: 'production', backupLabel: '' }, 'RDS names its source by ARN, which is the enrolled production');
  assert.equal(before.replication?.sourceInstanceId, 'production');
  assert.match(before.endpoint.host, /^mita-production-dr-replica\..*\.us-west-2\.rds\.amazonaws\.com$/);

  const promoted = await runActivity(activities, 'promoteReplica', 'rds-region-outage', { instanceId: 'dr-replica' }).result;
  const promotions = callsOf('PromoteReadReplica');
  assert.equal(promotions.length, 1);
  assert.equal(promotions[0]!.params.DBInstanceIdentifier, replicaIdentifier);
  assert.equal(promotions[0]!.params.BackupRetentionPeriod, '7');
  assert.equal(promotions[0]!.region, 'us-west-2', 'asked in the replica\'s region');
  assert.equal(promoted.role, 'primary', 'the database takes writes (moto still names a source: it only flips a flag)');
  assert.equal(promoted.acceptingConnections, true);
  const tagged = (await new RDSClient(moto.clientConfig('us-west-2')).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: replicaIdentifier }))).DBInstances![0]!.TagList ?? [];
  assert.ok(tagged.some((t) => t.Key === 'dr-runbooks:promoted-at'), 'tagged with when it was promoted');

  const again = await runActivity(activities, 'promoteReplica', 'rds-region-outage', { instanceId: 'dr-replica' }).result;
  assert.equal(again.role, 'primary');
  assert.equal(callsOf('PromoteReadReplica').length, 1, 'no second PromoteReadReplica');
});

test('moto + real PostgreSQL: a drill replica streams, then its deletion takes the final snapshot the config asks for and waits until it is gone', async () => {
  const built = await runActivity(activities, 'createReplica', 'rds-drill', { database: 'production', step: 'drill-replica', incidentId: 'DRILL-7' }).result;
  const id = built.instance.instanceId;
  assert.equal(built.instance.role, 'replica');
  assert.equal(built.instance.replication?.streaming, true);
  assert.equal(callsOf('CreateDBInstanceReadReplica').at(-1)?.params.SourceDBInstanceIdentifier, primaryIdentifier);
  assert.deepEqual(await adapters.databasePlatform.deleteInstance(id), { deleted: true });
  const deletion = callsOf('DeleteDBInstance').at(-1)!.params;
  assert.deepEqual([deletion.DBInstanceIdentifier, deletion.FinalDBSnapshotIdentifier, deletion.SkipFinalSnapshot], [id, `${id}-final`, 'false']);
  const snapshots = (await new RDSClient(moto.clientConfig('us-east-1')).send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: `${id}-final` }))).DBSnapshots ?? [];
  assert.equal(snapshots.length, 1);
  await assert.rejects(adapters.databasePlatform.describeInstance(id), /does not exist in RDS/);
  await local.platform.deleteInstance(id);
});

test('moto + real PostgreSQL: a restore point is the primary\'s time and WAL position, kept as a tag; a restore to its name asks RDS for that time', async () => {
  const point = await runActivity(activities, 'createRestorePoint', 'rds-migration', { database: 'production', name: 'before-rollback-1' }).result;
  const again = await runActivity(activities, 'createRestorePoint', 'rds-migration', { database: 'production', name: 'before-rollback-1' }).result;
  assert.deepEqual(again, point, 'once per name');
  assert.match(point.lsn, /^[0-9A-F]+\/[0-9A-F]+$/);
  const before = callsOf('RestoreDBInstanceToPointInTime').length;
  const restored = await runActivity(activities, 'restoreToPointInTime', 'rds-migration', { database: 'production', step: 'pitr', target: { kind: 'name', name: 'before-rollback-1' } }).result;
  const call = callsOf('RestoreDBInstanceToPointInTime').slice(before)[0]!;
  assert.equal(new Date(call.params.RestoreTime!).toISOString(), point.createdAt);
  assert.equal(tagsIn(call.params)['dr-runbooks:recovery-target'], 'name:before-rollback-1');
  assert.equal(tagsIn(call.params)['dr-runbooks:restore-time'], point.createdAt);
  await adapters.databasePlatform.deleteInstance(restored.instance.instanceId);
  await nonRetryable(runActivity(activities, 'restoreToPointInTime', 'rds-migration-2', { database: 'production', step: 'pitr', target: { kind: 'name', name: 'never-made' } }).result, 'PlatformRequestError', /production has no restore point named "never-made"/);
});

test('moto + real PostgreSQL: a snapshot taken by a step is named for it (a retry waits for the same one); restoring it builds from exactly that snapshot', async () => {
  const backup = await runActivity(activities, 'takeDatabaseBackup', 'rds-snapshot', { database: 'production', type: 'incr', incidentId: 'INC-9' }).result;
  assert.equal(backup.label, instanceIdFor('rds-snapshot', 'takeDatabaseBackup'));
  const again = await runActivity(activities, 'takeDatabaseBackup', 'rds-snapshot', { database: 'production', type: 'incr', incidentId: 'INC-9' }).result;
  assert.equal(again.label, backup.label);
  assert.equal(callsOf('CreateDBSnapshot').filter((c) => c.params.DBSnapshotIdentifier === backup.label).length, 1);
  const restored = await runActivity(activities, 'restoreBackupToNewInstance', 'rds-snapshot', { database: 'production', step: 'drill-copy', backupLabel: backup.label }).result;
  assert.equal(callsOf('RestoreDBInstanceFromDBSnapshot').at(-1)?.params.DBSnapshotIdentifier, backup.label);
  assert.equal(restored.backupLabel, backup.label);
  assert.equal(restored.instance.acceptingConnections, true);
  await adapters.databasePlatform.deleteInstance(restored.instance.instanceId);
  await nonRetryable(runActivity(activities, 'restoreBackupToNewInstance', 'rds-snapshot-2', { database: 'production', backupLabel: 'no-such-snapshot' }).result, 'PlatformRequestError', /snapshot "no-such-snapshot" is not an available snapshot of mita-production-primary/);
});

test('moto + real PostgreSQL: a worker killed while it waits for a restore, then restarted, finds the same instance: exactly one RestoreDBInstanceToPointInTime', async (t) => {
  quietTemporalLogs();
  const temporal: TemporalServer & { stateDir: string } = await startInTempDir('dr-temporal-', (stateDir) => startTemporalServer({ stateDir }));
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address: temporal.address, namespace: temporal.namespace });
  const workers: ChildProcess[] = [];
  try {
    const startWorker = async (unreachable: boolean) => {
      const child = await startPlatformWorker({ temporalAddress: temporal.address, taskQueue: 'rds-crash', configFile, env: { DR_TEST_LOCAL_PLATFORM_DIR: local.options.stateDir, DR_TEST_UNREACHABLE: unreachable ? '1' : '0' } });
      workers.push(child);
      return child;
    };
    const workflowId = 'rds-crash-restore';
    const instanceId = instanceIdFor(workflowId, 'restoreToPointInTime');
    const creates = () => callsOf('RestoreDBInstanceToPointInTime').filter((r) => r.params.TargetDBInstanceIdentifier === instanceId);
    const first = await startWorker(true);
    const handle = await env.client.workflow.start('restoreFixture', { taskQueue: 'rds-crash', workflowId, args: [{ database: 'production', target: { kind: 'latest' } }] });
    const deadline = Date.now() + 60_000;
    while (creates().length === 0) {
      assert.ok(Date.now() < deadline, 'the restore was asked for');
      await sleep(50);
    }
    await sleep(1500); // the worker is waiting for the database to answer, heartbeating
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    t.diagnostic(`killed the worker after ${creates().length} RestoreDBInstanceToPointInTime`);

    await startWorker(false);
    const result = await handle.result() as Awaited<ReturnType<DatabasePlatform['restoreToPointInTime']>>;
    assert.equal(result.instance.instanceId, instanceId);
    assert.equal(result.reused, true, 'the retry took the instance the first attempt asked for');
    assert.equal(result.instance.acceptingConnections, true);
    assert.equal(creates().length, 1, 'exactly one create call, counted by moto');
    const history = await handle.fetchHistory();
    const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
    assert.ok(attempts.some((a) => a >= 2), `the activity was retried after the kill (attempts ${attempts.join(', ')})`);
    assert.equal((await new RDSClient(moto.clientConfig('us-east-1')).send(new DescribeDBInstancesCommand({}))).DBInstances!.filter((d) => d.DBInstanceIdentifier === instanceId).length, 1);
    await adapters.databasePlatform.deleteInstance(instanceId);
  } finally {
    for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await env.teardown();
    await temporal.stop();
  }
});

test('moto: verifying the backups of production reports its retention, restorable window and snapshots; a window whose end lags is an error', async () => {
  const verified = await adapters.databasePlatform.verifyBackups('production');
  assert.equal(verified.ok, true, verified.report);
  assert.match(verified.report, /^instance: mita-production-primary \(us-east-1\), automated backups kept 7 day\(s\)$/m);
  assert.match(verified.report, /^restorable window: \S+ to \S+ \(earliest from the oldest automated snapshot\)$/m);
  assert.match(verified.report, /^status: ok$/m);
  // moto's LatestRestorableTime is always now: a clock 20 minutes ahead makes it 20 minutes old.
  const later = seedRdsPlatform((region) => new RDSClient(moto.clientConfig(region)), { credentials: async () => ({ user: 'postgres', password: '', database: 'mita' }), clock: { now: () => Date.now() + 20 * 60_000, sleep: async () => undefined } });
  const stale = await later.verifyBackups('production');
  assert.equal(stale.ok, false);
  assert.match(stale.report, /the latest restorable time is 20 minutes old .*log shipping has stopped/);
});
