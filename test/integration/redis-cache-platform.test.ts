import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type Redis from 'ioredis';
import { createLocalCachePlatform, enrolCacheInstance, removeCacheLeftovers } from '../../activities/adapters/local/redis/local-cache-platform';
import { withRedis, type RedisTarget } from '../../activities/adapters/local/redis/redis-client';
import { runningRedisPid, startRedisServer, stopRedisServer } from '../../activities/adapters/local/redis/redis-server';
import { BackupIntegrityError } from '../../activities/ports/backup-integrity-error';
import type { CacheBackup, CachePlatform } from '../../activities/ports/cache-platform';
import { createMemoryObjectStore } from '../support/memory-object-store';

// The cache platform on real redis-server 7 processes: a "production" Redis with AOF on, backups of
// all three kinds, restores into new instances, verification, session restores with TTLs.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dr-cache-'));
const stateDir = path.join(tmp, 'platform');
const productionDir = path.join(tmp, 'production');
const store = createMemoryObjectStore();
const platform: CachePlatform = createLocalCachePlatform({ stateDir, store, loadTimeoutMs: 60_000 });
let production: RedisTarget;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const binaryKey = Buffer.from([0x63, 0x61, 0x63, 0x68, 0x65, 0x3a, 0xff, 0xfe, 0x00]);

async function seed(redis: Redis): Promise<void> {
  for (let i = 0; i < 300; i++) await redis.set(`user:${i}:profile`, JSON.stringify({ id: i, plan: i % 3 ? 'basic' : 'premium' }));
  for (let i = 0; i < 40; i++) await redis.hset(`account:${i}`, { balance: String(1000 + i), currency: 'USD', owner: `user:${i}` });
  await redis.rpush('queue:emails', 'a', 'b', 'c', 'b');
  await redis.sadd('flags:beta', 'u1', 'u2', 'u3');
  await redis.zadd('leaderboard', '10', 'alice', '2.5', 'bob', '-1', 'carol');
  for (let i = 0; i < 25; i++) await redis.set(`rate:${i}`, '1', 'EX', 3600); // volatile keys that outlive the test
  await redis.set(binaryKey, Buffer.from([0, 1, 2, 255]));
  await redis.select(2);
  for (let i = 0; i < 30; i++) await redis.set(`report:${i}`, `r${i}`);
  await redis.select(0);
}

async function keyspace(target: RedisTarget): Promise<string> {
  return withRedis(target, async (redis) => ((await redis.info('keyspace')) as string).split('\n').filter((l) => l.startsWith('db')).map((l) => l.trim().replace(/,avg_ttl=\d+/, '')).join(' '));
}

const targetOf = async (instanceId: string, db = 0): Promise<RedisTarget> => {
  const c = (await platform.connectionFor(instanceId))!;
  return { host: c.host, port: c.port, password: c.password, db };
};

before(async () => {
  const password = 'production-secret-1';
  writeFileSync(path.join(tmp, 'production.password'), password + '\n', { mode: 0o600 });
  const { port } = await startRedisServer({ dir: productionDir, password, appendonly: true });
  production = { host: '127.0.0.1', port, password };
  await enrolCacheInstance({ stateDir }, { instanceId: 'production', port, passwordFile: path.join(tmp, 'production.password') });
  await withRedis(production, seed);
});

after(async () => {
  for (const id of ['rdb-restore', 'aof-restore', 'sessions-target', 'abandoned']) await platform.deleteInstance(id).catch(() => undefined);
  await stopRedisServer(productionDir, 'kill');
  rmSync(tmp, { recursive: true, force: true });
});

let rdb: CacheBackup;

test('an RDB backup restored into a new instance matches the backup\'s key counts and sampled values; later writes are not in it', async () => {
  const before = await keyspace(production);
  rdb = (await platform.takeBackup({ backupId: 'rdb-1', sourceInstanceId: 'production', kind: 'rdb', sampleSize: 40 })).backup;
  assert.deepEqual(rdb.keyspace, [{ db: 0, keys: 369, expires: 25 }, { db: 2, keys: 30, expires: 0 }]);
  assert.equal(before, 'db0:keys=369,expires=25 db2:keys=30,expires=0');
  assert.ok(rdb.sample.length >= 30 && rdb.sample.some((s) => s.db === 2), `sample of ${rdb.sample.length} keys across databases`);
  assert.deepEqual(rdb.objects.map((o) => o.name), ['dump.rdb']);
  assert.match(rdb.objects[0]!.sha256, /^[0-9a-f]{64}$/);
  assert.ok(!JSON.stringify(rdb).includes('production-secret-1'), 'no password in the metadata');
  await withRedis(production, (redis) => redis.set('written:after:backup', 'x'));

  const restored = await platform.restoreBackupToNewInstance({ instanceId: 'rdb-restore', backupId: 'rdb-1' });
  assert.equal(restored.reused, false);
  assert.equal(restored.instance.status, 'available');
  assert.notEqual(restored.instance.endpoint.port, production.port);
  assert.deepEqual(restored.instance.keyspace, rdb.keyspace);
  assert.ok(!JSON.stringify(restored).includes((await platform.connectionFor('rdb-restore'))!.password), 'no password in the result');
  const verification = await platform.verifyInstance({ instanceId: 'rdb-restore', backupId: 'rdb-1' });
  assert.equal(verification.ok, true, verification.problems.join('; '));
  assert.equal(verification.ping, 'PONG');
  assert.equal(verification.sample.matched, rdb.sample.length);
  await withRedis(await targetOf('rdb-restore'), async (redis) => {
    assert.equal(await redis.get('written:after:backup'), null);
    assert.deepEqual(await redis.hgetall('account:7'), { balance: '1007', currency: 'USD', owner: 'user:7' });
    assert.deepEqual(await redis.zrange('leaderboard', '0', '-1', 'WITHSCORES'), ['carol', '-1', 'bob', '2.5', 'alice', '10']);
    assert.deepEqual(await redis.getBuffer(binaryKey), Buffer.from([0, 1, 2, 255]));
  });
});

test('verification fails, naming the key, when the instance differs from the backup', async () => {
  const sampled = rdb.sample.find((s) => s.db === 0 && s.type === 'string' && !s.expiresAt && !s.keyEncoding)!;
  await withRedis(await targetOf('rdb-restore'), async (redis) => {
    await redis.set(sampled.key, 'tampered');
    await redis.del('queue:emails', 'flags:beta');
  });
  const verification = await platform.verifyInstance({ instanceId: 'rdb-restore', backupId: 'rdb-1' });
  assert.equal(verification.ok, false);
  assert.ok(verification.problems.some((p) => p.includes(`key "${sampled.key}" has a different value`)), verification.problems.join('; '));
  assert.ok(verification.problems.some((p) => /^db0 holds 367 keys \(25 with a TTL\), the backup 369/.test(p)), verification.problems.join('; '));
});

test('a retry of a restore with the same instance id returns the same instance; another backup under that id is refused', async () => {
  const first = await platform.describeInstance('rdb-restore');
  const again = await platform.restoreBackupToNewInstance({ instanceId: 'rdb-restore', backupId: 'rdb-1' });
  assert.equal(again.reused, true);
  assert.equal(again.instance.endpoint.port, first.endpoint.port);
  assert.equal((await platform.takeBackup({ backupId: 'rdb-1', sourceInstanceId: 'production', kind: 'rdb' })).reused, true, 'a retry of a finished backup returns it');
  await platform.takeBackup({ backupId: 'rdb-2', sourceInstanceId: 'production', kind: 'rdb', sampleSize: 5 });
  await assert.rejects(platform.restoreBackupToNewInstance({ instanceId: 'rdb-restore', backupId: 'rdb-2' }), /already exists and was built for another request/);
  await assert.rejects(platform.takeBackup({ backupId: 'rdb-1', sourceInstanceId: 'production', kind: 'aof' }), /already exists for another request/);
});

test('an AOF backup restored into a new instance (appendonly yes, appendfsync everysec) matches its key counts and sample', async () => {
  const aof = (await platform.takeBackup({ backupId: 'aof-1', sourceInstanceId: 'production', kind: 'aof', sampleSize: 30 })).backup;
  assert.ok(aof.objects.some((o) => o.name === 'appendonlydir/appendonly.aof.manifest'));
  assert.ok(aof.objects.some((o) => /^appendonlydir\/appendonly\.aof\.\d+\.base\.rdb$/.test(o.name)));
  assert.deepEqual(aof.keyspace, [{ db: 0, keys: 370, expires: 25 }, { db: 2, keys: 30, expires: 0 }], 'the AOF holds everything written, including the write after the RDB backup');
  const restored = await platform.restoreBackupToNewInstance({ instanceId: 'aof-restore', backupId: 'aof-1' });
  assert.deepEqual(restored.instance.persistence, { rdb: true, aof: true, appendfsync: 'everysec' });
  assert.deepEqual(restored.instance.keyspace, aof.keyspace);
  const verification = await platform.verifyInstance({ instanceId: 'aof-restore', backupId: 'aof-1' });
  assert.equal(verification.ok, true, verification.problems.join('; '));
  assert.equal(verification.sample.matched, aof.sample.length);
  await withRedis(await targetOf('aof-restore'), async (redis) => assert.equal(await redis.get('written:after:backup'), 'x'));
});

test('a tampered backup object is refused naming it, and nothing is created', async () => {
  const key = rdb.objects[0]!.key;
  const original = (await store.get(key))!;
  const flipped = Buffer.from(original);
  flipped[Math.floor(flipped.length / 2)] = flipped[Math.floor(flipped.length / 2)]! ^ 0x01;
  await store.put(key, flipped);
  try {
    const error = await platform.restoreBackupToNewInstance({ instanceId: 'tampered-restore', backupId: 'rdb-1' }).then(() => undefined, (e: Error) => e);
    assert.ok(error instanceof BackupIntegrityError, String(error));
    assert.match(error.message, /backup "rdb-1": object "cache-backups\/rdb-1\/dump\.rdb" is \d+ bytes with sha256 [0-9a-f]{64}, its metadata says .* \(altered or truncated\); nothing was restored/);
    assert.equal(await platform.connectionFor('tampered-restore'), undefined);
    assert.equal(existsSync(path.join(stateDir, 'instances', 'tampered-restore')), false);
  } finally {
    await store.put(key, original);
  }
});

test('a session export restored later keeps the remaining TTLs and drops the sessions that expired', async () => {
  await withRedis(production, async (redis) => {
    await redis.set('session:short', 'expires soon', 'PX', 1500);
    await redis.set('session:long', JSON.stringify({ user: 7 }), 'EX', 120);
    await redis.set('session:forever', 'no ttl');
    await redis.hset('session:hash', { user: '8', csrf: 'tok', 'ünïcode': 'välue' });
    await redis.expire('session:hash', 90);
    await redis.rpush('session:list', 'x', 'y');
    await redis.expire('session:list', 60);
    await redis.sadd('session:set', 'r1', 'r2');
    await redis.zadd('session:zset', '1', 'a', '2', 'b');
    await redis.set('session:kept', 'from the export', 'EX', 100);
  });
  const sourceExpiry = await withRedis(production, async (redis) => Number(await redis.call('PEXPIRETIME', 'session:long')));
  const exported = (await platform.takeBackup({ backupId: 'sessions-1', sourceInstanceId: 'production', kind: 'sessions' })).backup;
  assert.equal(exported.sessions?.exported, 8);
  assert.deepEqual(exported.keyspace, [{ db: 0, keys: 8, expires: 5 }]);
  const json = JSON.parse((await store.get('cache-backups/sessions-1/sessions.json'))!.toString('utf8'));
  assert.deepEqual(json['session:hash'].value, { user: '8', csrf: 'tok', 'ünïcode': 'välue' }, 'the seed\'s format: key -> {type, value, ttl}');
  assert.equal(json['session:hash'].type, 'hash');
  assert.ok(json['session:hash'].ttl > 80 && json['session:hash'].ttl <= 90);
  assert.equal(json['session:forever'].ttl, -1);

  // The target: a running instance without those sessions, except one written there since (kept).
  await platform.restoreBackupToNewInstance({ instanceId: 'sessions-target', backupId: 'rdb-1' });
  await withRedis(await targetOf('sessions-target'), (redis) => redis.set('session:kept', 'newer, on the target'));
  await sleep(2000); // session:short runs out
  const restoredAt = Date.now();
  const result = await platform.restoreSessions({ instanceId: 'sessions-target', backupId: 'sessions-1' });
  assert.deepEqual({ ...result, instanceId: undefined }, { instanceId: undefined, backupId: 'sessions-1', total: 8, restored: 6, skippedExpired: 1, skippedExisting: 1, replaced: 0 });
  await withRedis(await targetOf('sessions-target'), async (redis) => {
    assert.equal(await redis.exists('session:short'), 0, 'an expired session is not restored');
    assert.equal(Number(await redis.call('PEXPIRETIME', 'session:long')), sourceExpiry, 'the same expiry time as on the source');
    const left = await redis.pttl('session:long');
    assert.ok(left > 0 && left <= 120_000 - (restoredAt - Date.parse(exported.takenAt)) + 50, `remaining TTL ${left} ms, not the original 120 s`);
    assert.equal(await redis.pttl('session:forever'), -1);
    assert.deepEqual(await redis.hgetall('session:hash'), { user: '8', csrf: 'tok', 'ünïcode': 'välue' });
    assert.deepEqual(await redis.lrange('session:list', 0, -1), ['x', 'y']);
    assert.deepEqual((await redis.smembers('session:set')).sort(), ['r1', 'r2']);
    assert.deepEqual(await redis.zrange('session:zset', '0', '-1', 'WITHSCORES'), ['a', '1', 'b', '2']);
    assert.equal(await redis.get('session:kept'), 'newer, on the target');
  });
  const verification = await platform.verifyInstance({ instanceId: 'sessions-target', backupId: 'sessions-1' });
  assert.equal(verification.sample.expiredSinceBackup, 1);
  assert.deepEqual(verification.sample.mismatches.map((m) => m.key), ['session:kept'], 'the kept newer session is the only difference');

  const replaced = await platform.restoreSessions({ instanceId: 'sessions-target', backupId: 'sessions-1', existing: 'replace' });
  assert.equal(replaced.replaced, 7);
  await withRedis(await targetOf('sessions-target'), async (redis) => assert.equal(await redis.get('session:kept'), 'from the export'));
});

test('delete refuses the enrolled instance; a built one is stopped and removed; an unknown one is a no-op', async () => {
  await assert.rejects(platform.deleteInstance('production'), /cache instance "production" is protected/);
  assert.equal((await platform.describeInstance('production')).acceptingConnections, true);
  const dir = path.join(stateDir, 'instances', 'aof-restore');
  assert.ok(runningRedisPid(dir));
  assert.deepEqual(await platform.deleteInstance('aof-restore'), { deleted: true });
  assert.equal(runningRedisPid(dir), undefined);
  assert.equal(existsSync(dir), false);
  assert.deepEqual(await platform.deleteInstance('aof-restore'), { deleted: false });
});

test('a cancelled restore leaves nothing behind; a stopped instance is started again by waitUntilAvailable', async () => {
  const controller = new AbortController();
  const restore = platform.restoreBackupToNewInstance({ instanceId: 'abandoned', backupId: 'rdb-1' }, { signal: controller.signal, onProgress: (p) => { if (p.phase === 'starting') controller.abort(); } });
  await assert.rejects(restore);
  assert.equal(await platform.connectionFor('abandoned'), undefined);
  assert.deepEqual(readdirSync(path.join(stateDir, 'instances')).sort(), ['rdb-restore', 'sessions-target']);

  const dir = path.join(stateDir, 'instances', 'rdb-restore');
  await stopRedisServer(dir, 'graceful');
  assert.equal((await platform.describeInstance('rdb-restore')).acceptingConnections, false);
  const back = await platform.waitUntilAvailable('rdb-restore', { timeoutMs: 30_000 });
  assert.equal(back.acceptingConnections, true);
  assert.equal(back.keyspace?.find((k) => k.db === 2)?.keys, 30);
});

test('crash leftovers (a server on an unregistered directory, a scratch server) are stopped and removed', async () => {
  const stray = path.join(stateDir, 'instances', 'stray');
  const scratch = path.join(stateDir, 'scratch', 'rdb-9');
  for (const dir of [stray, scratch]) await startRedisServer({ dir, password: 'x', appendonly: false, save: '' });
  const removed = await removeCacheLeftovers({ stateDir });
  assert.deepEqual(removed.sort(), [scratch, stray].sort());
  assert.equal(existsSync(stray) || existsSync(scratch), false);
  assert.ok(runningRedisPid(path.join(stateDir, 'instances', 'rdb-restore')), 'registered instances are left alone');
  assert.match(readFileSync(path.join(stateDir, 'instances.json'), 'utf8'), /"rdb-restore"/);
});

test('bad requests name the field and change nothing', async () => {
  await assert.rejects(platform.takeBackup({ backupId: 'Bad Id', sourceInstanceId: 'production', kind: 'rdb' }), /backupId "Bad Id" is not valid/);
  await assert.rejects(platform.takeBackup({ backupId: 'x-1', sourceInstanceId: 'production', kind: 'snapshot' as 'rdb' }), /kind "snapshot" is not valid: use rdb, aof, sessions/);
  await assert.rejects(platform.takeBackup({ backupId: 'x-1', sourceInstanceId: 'nowhere', kind: 'rdb' }), /cache instance "nowhere" does not exist/);
  await assert.rejects(platform.restoreBackupToNewInstance({ instanceId: 'x-restore', backupId: 'no-such-backup' }), /cache backup "no-such-backup" does not exist/);
  await assert.rejects(platform.restoreBackupToNewInstance({ instanceId: 'x-restore', backupId: 'sessions-1' }), /is a session export: restore it into a running instance with restoreSessions/);
  await assert.rejects(platform.restoreSessions({ instanceId: 'rdb-restore', backupId: 'rdb-1' }), /is an RDB backup, not a session export/);
  await assert.rejects(platform.restoreBackupToNewInstance({ instanceId: 'X', backupId: 'rdb-1' }), /instanceId "X" is not valid/);
  assert.equal(store.keys().some((k) => k.startsWith('cache-backups/x-1/')), false);
});
