import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CreateReplicationGroupCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient, ListTagsForResourceCommand } from '@aws-sdk/client-elasticache';
import { createElastiCacheClient, createElastiCachePlatform } from '../../activities/adapters/aws/elasticache';
import { judgeGroup, judgeSnapshot, waitFor } from '../../activities/adapters/aws/elasticache/group-state';
import { createSecretsDirectory } from '../../activities/adapters/local/secrets-directory';
import { withRedis } from '../../activities/adapters/local/redis/redis-client';
import { startRedisServer, stopRedisServer } from '../../activities/adapters/local/redis/redis-server';
import type { CachePlatform } from '../../activities/ports/cache-platform';
import { startMotoServer, type MotoServer } from '../../stack/moto-server';
import { createMemoryObjectStore } from '../support/memory-object-store';

// The ElastiCache adapter against moto's ElastiCache API, and a real redis-server 7 where the data is:
// moto has no engine behind a replication group (no data, no pending states, endpoints that resolve to
// nothing), so the API calls are proven against moto and every data check (key counts, sampled values,
// sessions and their TTLs) on a real redis-server standing behind the enrolled group's endpoint.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dr-elasticache-'));
let moto: MotoServer;
let client: ElastiCacheClient;
let platform: CachePlatform;
let redisPort: number;
const redisDir = path.join(tmp, 'production-redis');
const store = createMemoryObjectStore();
const secrets = createSecretsDirectory(path.join(tmp, 'secrets'));
const production = () => ({ host: '127.0.0.1', port: redisPort, password: 'prod-token-0123456789' });

before(async () => {
  moto = await startMotoServer({ stateDir: path.join(tmp, 'moto') });
  client = createElastiCacheClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: moto.clientConfig().credentials });
  // The production group as ElastiCache knows it (made with the SDK, as an operator's Terraform would).
  await client.send(new CreateReplicationGroupCommand({ ReplicationGroupId: 'mita-cache', ReplicationGroupDescription: 'mita production cache', Engine: 'redis', CacheNodeType: 'cache.r7g.large', NumCacheClusters: 2, TransitEncryptionEnabled: true, AuthToken: 'prod-token-0123456789' }));
  ({ port: redisPort } = await startRedisServer({ dir: redisDir, password: production().password, appendonly: false }));
  await secrets.write('mita-cache-auth-token', production().password);
  await withRedis(production(), async (redis) => {
    for (let i = 0; i < 50; i++) await redis.set(`user:${i}:profile`, JSON.stringify({ id: i }));
    for (let i = 0; i < 5; i++) await redis.set(`session:${i}`, `s${i}`, 'EX', 600);
  });
  platform = createElastiCachePlatform({
    client,
    region: 'us-east-1',
    store,
    secrets,
    // The worker reaches production's Redis through a tunnel: here, the real redis-server.
    replicationGroups: { production: { replicationGroupId: 'mita-cache', authTokenSecret: 'mita-cache-auth-token', endpoint: { host: '127.0.0.1', port: redisPort, tls: false } } },
    nodeType: 'cache.t4g.small',
    authTokenSecretPrefix: 'elasticache-auth-',
    pollIntervalMs: 10,
    createTimeoutMs: 5000,
  });
});
after(async () => {
  await moto?.stop();
  await stopRedisServer(redisDir, 'kill');
  rmSync(tmp, { recursive: true, force: true });
});

test('moto + redis-server: an RDB backup is CreateSnapshot of the enrolled group, waited for; its key counts and sample come from the real Redis at that moment', async () => {
  const { backup, reused } = await platform.takeBackup({ backupId: 'rdb-1', sourceInstanceId: 'production', kind: 'rdb', sampleSize: 20 });
  assert.equal(reused, false);
  assert.deepEqual(backup.keyspace, [{ db: 0, keys: 55, expires: 5 }]);
  assert.equal(backup.sample.length, 20);
  const snapshot = (await client.send(new DescribeSnapshotsCommand({ SnapshotName: 'rdb-1' }))).Snapshots?.[0];
  assert.equal(snapshot?.ReplicationGroupId, 'mita-cache');
  assert.equal(snapshot?.SnapshotStatus, 'available');
  assert.equal((await platform.takeBackup({ backupId: 'rdb-1', sourceInstanceId: 'production', kind: 'rdb' })).reused, true, 'a retry returns the finished backup');
  assert.deepEqual((await platform.listBackups('production')).map((b) => b.backupId), ['rdb-1']);
});

test('moto: a restore is CreateReplicationGroup from the snapshot with a new AUTH token in the secret store, tagged with its backup; a retry finds it (moto cannot prove the group holds the data: no engine)', async () => {
  const first = await platform.restoreBackupToNewInstance({ instanceId: 'inc-7-cache-restore-1a2b3c4d', backupId: 'rdb-1' });
  assert.equal(first.reused, false);
  assert.equal(first.instance.status, 'available');
  assert.equal(first.instance.protected, false);
  assert.deepEqual(first.instance.origin, { kind: 'backup', backupId: 'rdb-1', backupKind: 'rdb', sourceInstanceId: 'production' });
  assert.equal(first.instance.endpoint.tls, true);
  assert.match(first.instance.endpoint.host, /^master\.inc-7-cache-restore-1a2b3c4d\./);
  const group = (await client.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'inc-7-cache-restore-1a2b3c4d' }))).ReplicationGroups![0]!;
  assert.equal(group.CacheNodeType, 'cache.t4g.small');
  assert.equal(group.AuthTokenEnabled, true);
  const tags = (await client.send(new ListTagsForResourceCommand({ ResourceName: group.ARN }))).TagList;
  assert.deepEqual(Object.fromEntries(tags!.map((t) => [t.Key, t.Value])), { 'dr-runbooks:built-by': 'dr-runbooks', 'dr-runbooks:backup-id': 'rdb-1', 'dr-runbooks:source-instance': 'production' });
  const connection = (await platform.connectionFor('inc-7-cache-restore-1a2b3c4d'))!;
  assert.equal(connection.password, (await secrets.read('elasticache-auth-inc-7-cache-restore-1a2b3c4d')).value, 'the token is the one written to the secret store');
  assert.notEqual(connection.password, production().password, 'a new group gets a new token');
  assert.ok(!JSON.stringify(first).includes(connection.password), 'no token in the result');

  const again = await platform.restoreBackupToNewInstance({ instanceId: 'inc-7-cache-restore-1a2b3c4d', backupId: 'rdb-1' });
  assert.equal(again.reused, true);
  await platform.takeBackup({ backupId: 'rdb-2', sourceInstanceId: 'production', kind: 'rdb', sampleSize: 1 });
  await assert.rejects(platform.restoreBackupToNewInstance({ instanceId: 'inc-7-cache-restore-1a2b3c4d', backupId: 'rdb-2' }), /already exists and was not built for this request/);
  await assert.rejects(platform.restoreBackupToNewInstance({ instanceId: 'mita-cache-not-enrolled-but-taken', backupId: 'no-such' }), /cache backup "no-such" does not exist/);
});

test('moto: delete refuses the enrolled group, deletes a restored one (DeleteReplicationGroup), and is a no-op for an unknown id or a group dr-runbooks did not build', async () => {
  await assert.rejects(platform.deleteInstance('production'), /cache instance "production" is protected/);
  assert.deepEqual(await platform.deleteInstance('inc-7-cache-restore-1a2b3c4d'), { deleted: true });
  const status = (await client.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'inc-7-cache-restore-1a2b3c4d' }))).ReplicationGroups![0]!.Status;
  assert.equal(status, 'deleting', 'moto keeps a deleted group, as "deleting" (AWS removes it after a while)');
  assert.deepEqual(await platform.deleteInstance('inc-7-cache-restore-1a2b3c4d'), { deleted: true }, 'deleting one already on its way is done');
  assert.deepEqual(await platform.deleteInstance('no-such-group'), { deleted: false });
  await client.send(new CreateReplicationGroupCommand({ ReplicationGroupId: 'someone-elses', ReplicationGroupDescription: 'not ours', Engine: 'redis', NumCacheClusters: 1 }));
  assert.deepEqual(await platform.deleteInstance('someone-elses'), { deleted: false }, 'a group dr-runbooks did not build is not its to delete');
  await assert.rejects(platform.describeInstance('someone-elses'), /does not exist \(no replication group someone-elses enrolled or built by dr-runbooks/);
});

test('ElastiCache has no AOF backups: backupKinds says so, and an AOF backup is refused naming the kinds', async () => {
  assert.deepEqual(platform.backupKinds, ['rdb', 'sessions']);
  await assert.rejects(platform.takeBackup({ backupId: 'aof-1', sourceInstanceId: 'production', kind: 'aof' }), /kind "aof" is not valid on ElastiCache: use rdb or sessions/);
  await assert.rejects(platform.takeBackup({ backupId: 'rdb-9', sourceInstanceId: 'mita-cache', kind: 'rdb' }), /cache instance "mita-cache" is not enrolled/);
});

test('redis-server (moto has no data): the session export and its restore go through the Redis endpoint, TTLs kept and the expired dropped; verification compares the endpoint with the backup', async () => {
  await withRedis(production(), (redis) => redis.set('session:short', 'gone soon', 'PX', 800));
  const { backup } = await platform.takeBackup({ backupId: 'sessions-1', sourceInstanceId: 'production', kind: 'sessions' });
  assert.equal(backup.sessions?.exported, 6);
  const expiry = await withRedis(production(), async (redis) => Number(await redis.call('PEXPIRETIME', 'session:3')));
  await withRedis(production(), async (redis) => { for (let i = 0; i < 5; i++) await redis.del(`session:${i}`); });
  await new Promise((r) => setTimeout(r, 900));
  const result = await platform.restoreSessions({ instanceId: 'production', backupId: 'sessions-1' });
  assert.deepEqual({ restored: result.restored, skippedExpired: result.skippedExpired }, { restored: 5, skippedExpired: 1 });
  assert.equal(await withRedis(production(), async (redis) => Number(await redis.call('PEXPIRETIME', 'session:3'))), expiry);
  const verification = await platform.verifyInstance({ instanceId: 'production', backupId: 'rdb-1' });
  assert.equal(verification.ping, 'PONG');
  assert.equal(verification.sample.mismatches.length, 0, verification.problems.join('; '));
});

test('the waits as pure code over ElastiCache\'s states (moto answers every group and snapshot "available" at once)', async () => {
  const states = ['creating', 'creating', 'modifying', 'available'];
  const seen: string[] = [];
  await waitFor({ what: 'group g', read: async () => ({ Status: states.shift() }), judge: judgeGroup, intervalMs: 1, timeoutMs: 1000, sleep: async () => undefined, onWait: (s) => seen.push(s) });
  assert.deepEqual(seen, ['creating', 'creating', 'modifying']);
  await assert.rejects(waitFor({ what: 'group g', read: async () => ({ Status: 'create-failed' }), judge: judgeGroup, intervalMs: 1, timeoutMs: 1000, sleep: async () => undefined }), /group g: ElastiCache says create-failed/);
  let clock = 0;
  await assert.rejects(waitFor({ what: 'snapshot s', read: async () => ({ SnapshotStatus: 'creating' }), judge: judgeSnapshot, intervalMs: 600, timeoutMs: 1000, now: () => clock, sleep: async (ms) => { clock += ms; } }), /snapshot s: still creating after 1 s/);
});
