import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, GetChangeCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { Client as PgClient } from 'pg';
import { startRunbook } from '../../client/runbooks';
import { applicationRole } from '../../demo/financial-dataset';
import { startKubernetesControlPlane, type KubernetesControlPlane } from '../../stack/kubernetes-control-plane';
import { startMotoServer, type MotoServer } from '../../stack/moto-server';
import type { WorkerConfig } from '../../worker/config';
import { approveUpdate } from '../../workflows/messages';
import { recoverFromRegionOutageInput } from '../../workflows/recover-from-region-outage';
import { onAwsFamily, prepareAwsAccount } from '../support/aws-family';
import { eventually } from '../support/eventually';
import { appNamespace, seedNames, unreachableClusterKubeconfig, type AppNamespace } from '../support/kubernetes';
import { startPodsOfDeployment, type PodsOfDeployment } from '../support/kubernetes-pods';
import { accountId, createSeedRdsInstances, primaryIdentifier, replicaIdentifier } from '../support/moto-rds';
import { localTwinResolver } from '../support/rds-twin';
import { gateIsOpen, runbookOutcome, startScenarioStack, waitForRunbookStatus, type ScenarioStack } from '../support/scenario-stack';
import { startInTempDir } from '../support/temp-server';

// The region outage on the seeds' topology, only the config changed: RDS (the us-east-1 primary and its
// us-west-2 cross-region read replica), Route 53 and Secrets Manager answered by moto; the DR cluster's
// standby Deployment (0 replicas) on a real API server, driven as the shipped Role's ServiceAccount, kwok
// making its pods ready. The primary region is dark: its database does not answer and its cluster's API
// server is unreachable. moto runs no database, so the replica's data, its promotion and what the
// application answers with are a real local PostgreSQL streaming from production (pgBackRest-built).
// First a drill (production still up): what it builds in RDS it deletes, and it touches nothing else.
let s: ScenarioStack;
let cp: KubernetesControlPlane & { stateDir: string };
let moto: MotoServer & { stateDir: string };
let route53: Route53Client;
let zoneId: string;
let dr: AppNamespace;
let pods: PodsOfDeployment;
let taskQueue: string;
const dnsName = 'db.mita.internal';
const replicaArn = `arn:aws:rds:us-west-2:${accountId}:db:${replicaIdentifier}`;

/** What Route 53 holds for the name now. */
async function cname(): Promise<string | undefined> {
  const sets = (await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets ?? [];
  return sets.find((r) => r.Type === 'CNAME' && r.Name === `${dnsName}.`)?.ResourceRecords?.[0]?.Value;
}
/** A payment as the live application writes it (the validation's recency check expects recent traffic). */
const recordPayment = (description: string) => s.production(async (db) => (await db.query<{ id: string }>(`INSERT INTO transactions (account_id, user_id, amount, description)
  SELECT id, user_id, 0.00, $1 FROM accounts ORDER BY id LIMIT 1 RETURNING id::text`, [description])).rows[0]!.id);
const endpointOf = async (region: string, identifier: string) => (await new RDSClient(moto.clientConfig(region)).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }))).DBInstances![0]!;

before(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  [s, cp, moto] = await Promise.all([
    startScenarioStack(),
    startInTempDir('dr-k8s-region-', (stateDir) => startKubernetesControlPlane({ stateDir })),
    startInTempDir('dr-moto-', (stateDir) => startMotoServer({ stateDir, recordRequests: true })),
  ]);
  await createSeedRdsInstances(moto, { replica: true });
  await prepareAwsAccount(moto, s.config.secretsDir!);
  // The application's database name, in Route 53, on the primary's RDS endpoint.
  route53 = new Route53Client(moto.clientConfig());
  zoneId = (await route53.send(new CreateHostedZoneCommand({ Name: 'mita.internal', CallerReference: `dr-region-e2e-${Date.now()}` }))).HostedZone!.Id!.replace('/hostedzone/', '');
  const primaryHost = (await endpointOf('us-east-1', primaryIdentifier)).Endpoint!.Address!;
  await route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: { Name: dnsName, Type: 'CNAME', TTL: 1, ResourceRecords: [{ Value: primaryHost }] } }] } }));

  // The real database behind moto's us-west-2 replica: a streaming replica of production.
  const replica = await s.platform.createReplica({ instanceId: 'dr-replica', sourceInstanceId: 'production' });
  const appConnection = new URL(readFileSync(path.join(s.config.secretsDir!, 'app-database-connection'), 'utf8').trim());
  appConnection.hostname = '127.0.0.1';
  appConnection.port = String(replica.instance.endpoint.port);

  // The DR cluster as the operators keep it: the standby Deployment at 0 replicas, its Secret on the DR
  // region's database. (The pods reach the replica directly: nothing here resolves moto's zone for them.)
  dr = await appNamespace(cp, 'mita-production', { secretData: { 'database-url': appConnection.toString() }, replicas: 0, readyAfter: '1s' });
  pods = await startPodsOfDeployment({ admin: cp.adminConfig(), namespace: dr.namespace, deployment: seedNames.deployment, secret: seedNames.secret, keys: { url: 'database-url' }, dir: cp.stateDir });
  // The production cluster is in the dark region: its API server does not answer.
  const darkKubeconfig = unreachableClusterKubeconfig(cp.stateDir, 'mita-production');

  // The worker's config: the embedded stack's with platform.rds (the replica enrolled by its ARN, as in
  // config/aws-eks.yaml), dns.route53, secretStore.secretsManager and app.kubernetes whose standby is in
  // the DR cluster; the primary's health URL is in the dark region too.
  taskQueue = await s.startWorker((config): WorkerConfig => {
    const aws = onAwsFamily(moto)(config);
    const rds = aws.platform!.rds!;
    return {
      ...aws,
      platform: { rds: { ...rds, instances: { ...rds.instances, 'dr-replica': { identifier: replicaArn, database: 'production' } } } },
      dns: { route53: { hostedZoneId: zoneId, port: 5432, record: { type: 'CNAME' }, pollIntervalSeconds: 0.2, waitTimeoutSeconds: 30 }, defaultTtlSeconds: 1 },
      kubernetes: { clusters: { 'mita-production': { kubeconfig: darkKubeconfig }, 'mita-dr': { kubeconfig: dr.serviceAccountKubeconfig } } },
      app: {
        databaseRole: applicationRole,
        connectionSecret: 'app-database-connection',
        kubernetes: {
          cluster: 'mita-production', namespace: 'mita-production', deployment: seedNames.deployment, secret: seedNames.secret, secretKeys: { url: 'database-url' },
          healthUrl: 'http://127.0.0.1:1/health/database', rolloutTimeoutSeconds: 120,
          standby: { cluster: 'mita-dr', healthUrl: pods.healthUrl },
        },
      },
    };
  }, { rdsEndpointResolver: localTwinResolver(s.platform) });
});

after(async () => {
  await pods?.stop();
  await Promise.all([s?.stop(), cp?.stop(), moto?.stop()]);
});

test('a drill on AWS builds its own RDS read replica of the primary (moto), promotes and validates it on a real local PostgreSQL, then deletes it; the DR replica, Route 53 and the standby Deployment (real API server) are untouched', async () => {
  await recordPayment('traffic before the drill');
  const requestsBefore = moto.requests().length;
  const before = { record: await cname(), replicas: (await dr.admin.apps.readNamespacedDeployment({ namespace: dr.namespace, name: seedNames.deployment })).spec?.replicas };
  const input = recoverFromRegionOutageInput.parse({ incidentId: 'DRILL-REG-AWS-1', startedBy: 'alice', mode: 'drill' });
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromRegionOutage', scenario: 'region-outage', input, taskQueue });
  const result = await runbookOutcome<{ promotedInstance: string }>(s.client, handle.workflowId);
  const drillInstance = result.output?.promotedInstance ?? s.instanceIds().find((id) => id.includes('drill'));
  try {
    assert.equal(result.verdict, 'completed', result.verdictDetail);
    const asked = moto.requests().slice(requestsBefore);
    const built = asked.filter((r) => r.action === 'CreateDBInstanceReadReplica');
    assert.equal(built.length, 1);
    assert.equal(built[0]!.params.DBInstanceIdentifier, drillInstance);
    assert.equal(built[0]!.params.SourceDBInstanceIdentifier, primaryIdentifier);
    assert.deepEqual(asked.filter((r) => r.action === 'PromoteReadReplica').map((r) => r.params.DBInstanceIdentifier), [drillInstance], 'only the drill replica is promoted');
    assert.deepEqual(asked.filter((r) => r.action === 'DeleteDBInstance').map((r) => r.params.DBInstanceIdentifier), [drillInstance], 'the drill replica is deleted, nothing else');
    assert.equal(result.timeline.find((t) => t.step === `compensation: delete the drill replica ${drillInstance}`)?.outcome, 'succeeded', `the cleanup is on the timeline: ${result.timeline.map((t) => t.step).join(' | ')}`);
    const west = (await new RDSClient(moto.clientConfig('us-west-2')).send(new DescribeDBInstancesCommand({}))).DBInstances!.map((d) => d.DBInstanceIdentifier);
    const east = (await new RDSClient(moto.clientConfig('us-east-1')).send(new DescribeDBInstancesCommand({}))).DBInstances!.map((d) => d.DBInstanceIdentifier);
    assert.deepEqual([...east, ...west].sort(), [primaryIdentifier, replicaIdentifier].sort());
    assert.equal(await cname(), before.record, 'Route 53 untouched');
    assert.equal((await dr.admin.apps.readNamespacedDeployment({ namespace: dr.namespace, name: seedNames.deployment })).spec?.replicas, before.replicas, 'the standby untouched');
    assert.ok(!asked.some((r) => r.method === 'POST' && /\/rrset/.test(r.path)), 'no Route 53 change');
  } finally {
    // The local twin that answered for the RDS drill replica is the test's to remove.
    if (drillInstance) await s.platform.deleteInstance(drillInstance);
  }
});

test('region outage on AWS and Kubernetes — RDS promotion of the ARN-enrolled replica in us-west-2 and the Route 53 UPSERT, INSYNC, on moto; the DR Deployment scaled up and ready on a real API server; the promoted data on a real local PostgreSQL; bob approves the DNS failover', async () => {
  const lastWrite = await recordPayment('written just before the outage');
  await eventually('the DR replica to replay the last write', 20_000, async () => {
    const c = new PgClient({ ...(await s.platform.connectionFor('dr-replica'))! });
    await c.connect();
    try {
      return (await c.query('SELECT 1 FROM transactions WHERE id = $1', [lastWrite])).rowCount || undefined;
    } finally {
      await c.end();
    }
  }, 100);
  const primaryHost = await cname();
  // us-east-1 goes dark: its database and its application.
  await s.stack.app?.stop();
  await s.stack.production.stop('immediate');
  const requestsBefore = moto.requests().length;

  const input = recoverFromRegionOutageInput.parse({ incidentId: 'INC-REG-AWS-1', startedBy: 'alice', replica: 'dr-replica', standbyReplicas: 2, healthTimeoutSeconds: 60 });
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromRegionOutage', scenario: 'region-outage', input, taskQueue });
  const waiting = await waitForRunbookStatus(s.client, handle.workflowId, (st) => gateIsOpen('dns-failover')(st) || st.verdict !== undefined, 240_000);
  assert.ok(gateIsOpen('dns-failover')(waiting), `the gate waits: ${waiting.verdictDetail}`);
  assert.equal(await cname(), primaryHost, 'Route 53 is not touched before the approval');

  // RDS, as moto recorded it: the replica is enrolled by its ARN, and its promotion is asked of the region
  // the ARN names (us-west-2, signed for it) under the identifier the ARN names, as PromoteReadReplica takes it.
  const asked = moto.requests().slice(requestsBefore);
  const promotions = asked.filter((r) => r.action === 'PromoteReadReplica');
  assert.equal(promotions.length, 1, `one promotion: ${asked.map((r) => r.action).join(', ')}`);
  assert.equal(promotions[0]!.region, replicaArn.split(':')[3]);
  assert.equal(promotions[0]!.region, 'us-west-2');
  assert.equal(promotions[0]!.params.DBInstanceIdentifier, replicaArn.split(':db:')[1]);
  // (moto's promotion only flips a flag and the replica still names its source: the runbook's tag on it is what shows.)
  const tags = (await endpointOf('us-west-2', replicaIdentifier)).TagList ?? [];
  assert.ok(tags.some((t) => t.Key === 'dr-runbooks:promoted-at' && !Number.isNaN(Date.parse(t.Value ?? ''))), `tagged promoted: ${JSON.stringify(tags)}`);
  // The real database behind it takes writes now.
  assert.equal((await s.platform.describeInstance('dr-replica')).role, 'primary');

  // The standby Deployment, on the API server: scaled from 0 to 2, every replica ready, before the DNS decision.
  const standby = await dr.admin.apps.readNamespacedDeployment({ namespace: dr.namespace, name: seedNames.deployment });
  assert.equal(standby.spec?.replicas, 2);
  assert.equal(standby.status?.readyReplicas, 2);
  assert.equal(standby.status?.availableReplicas, 2);
  assert.ok((standby.status?.observedGeneration ?? 0) >= (standby.metadata?.generation ?? 1), 'the controller saw the scale-up');
  assert.ok(waiting.timeline.some((t) => t.step === 'scale up the standby application to 2' && t.outcome === 'succeeded'));

  // The gate: this stack's approvals.authentication is none (the embedded default's), so no key or code is asked of bob.
  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'dns-failover', approver: 'bob', comment: 'us-east-1 confirmed down' }] });
  const result = await runbookOutcome<{ promotedInstance: string; endpoint: string; dns: { previousTarget: string | null; target: string }; application: { replicas: number; answeringFrom: string } }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.ok(result.timeline.some((t) => t.step === 'gate dns-failover' && t.outcome === 'approved' && t.detail?.includes('bob')));

  // Route 53: one UPSERT of the name to the promoted instance's RDS endpoint, INSYNC, and it reads back.
  const promotedHost = (await endpointOf('us-west-2', replicaIdentifier)).Endpoint!.Address!;
  assert.equal(result.output?.endpoint, `${promotedHost}:5432`);
  const changes = moto.requests().slice(requestsBefore).filter((r) => r.method === 'POST' && /\/hostedzone\/[^/]+\/rrset/.test(r.path));
  assert.equal(changes.length, 1, 'one change batch');
  const switchStep = result.timeline.find((t) => t.step === `switch ${dnsName} to dr-replica (${promotedHost}:5432)`);
  assert.ok(switchStep?.detail?.startsWith(`${primaryHost}:5432 → ${promotedHost}:5432, TTL 1 s`), `the timeline says what Route 53 did: ${switchStep?.detail}`);
  assert.equal(await cname(), promotedHost);
  assert.equal(result.output?.dns.previousTarget, `${primaryHost}:5432`);
  const changeReads = moto.requests().slice(requestsBefore).filter((r) => r.method === 'GET' && /\/change\//.test(r.path));
  assert.ok(changeReads.length >= 1, 'the runbook waited on the change');
  const changeId = changeReads.at(-1)!.path.split('/').at(-1)!;
  assert.equal((await route53.send(new GetChangeCommand({ Id: changeId }))).ChangeInfo?.Status, 'INSYNC');

  // The standby answers from the promoted database (its real PostgreSQL), with the last write before the outage.
  const promoted = (await s.platform.connectionFor('dr-replica'))!;
  assert.equal(result.output?.application.answeringFrom, `${promoted.host}:${promoted.port}`);
  const health = (await (await fetch(pods.healthUrl)).json()) as { database: { port: number } };
  assert.equal(health.database.port, promoted.port);
  const c = new PgClient({ ...promoted });
  await c.connect();
  try {
    assert.equal((await c.query('SELECT 1 FROM transactions WHERE id = $1', [lastWrite])).rowCount, 1, 'the last write before the outage survived');
  } finally {
    await c.end();
  }

  // What the runbook leaves, as it says: the promoted instance is the new primary and the standby runs;
  // it built nothing in RDS, so there is nothing to delete (and it deleted nothing).
  const rdsWrites = moto.requests().slice(requestsBefore).filter((r) => /^(Create|Restore|Delete)DB/.test(r.action ?? ''));
  assert.deepEqual(rdsWrites.map((r) => r.action), []);
  const west = (await new RDSClient(moto.clientConfig('us-west-2')).send(new DescribeDBInstancesCommand({}))).DBInstances!.map((d) => d.DBInstanceIdentifier);
  const east = (await new RDSClient(moto.clientConfig('us-east-1')).send(new DescribeDBInstancesCommand({}))).DBInstances!.map((d) => d.DBInstanceIdentifier);
  assert.deepEqual([...east, ...west].sort(), [primaryIdentifier, replicaIdentifier].sort());
});
