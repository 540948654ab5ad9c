import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RolloutFailedError, type AppRuntime, type RolloutStatus } from '../../activities/ports/app-runtime';
import type { SecretStore } from '../../activities/ports/secret-store';
import { formatEndpoint, type DatabaseEndpoint } from '../../lib/postgres-url';

// The AppRuntime contract: what every runtime (the local process, a Kubernetes Deployment) must do the
// same way, as case functions over an adapter factory. Each platform's test file runs them all; each case
// gets its own application from the factory (on Kubernetes, its own namespace).

/** A database the application can be pointed at, and how it tells which one answers. */
export interface ContractDatabase {
  /** The config name a pointer records. */
  name: string;
  endpoint: DatabaseEndpoint;
  systemIdentifier: string;
  /** The application's connection URL to it (a test secret, never shown). */
  url: string;
}

export interface AppRuntimeUnderTest {
  runtime: AppRuntime;
  secrets: SecretStore;
  connectionSecret: string;
  /** The application runs, signed in to `a` with a connection a person wrote (no secret version yet). */
  databases: { a: ContractDatabase; b: ContractDatabase };
  /** Makes every later restart crash or never become ready (a bad image, a bad config), and undoes it. */
  breakRollouts(): Promise<void>;
  repairRollouts(): Promise<void>;
  /** Replicas the platform runs and counts ready now. */
  runningReplicas(): Promise<number>;
  /** The most replicas this runtime can run (the local one runs one process). */
  maxReplicas: number;
  /** The secret the application's cache connection is written to (seed 002's Redis). */
  cacheSecret: string;
  /** What a failed rollout's message says on this platform. */
  failedRolloutSays: RegExp;
  cleanup(): Promise<void>;
}

export type AppRuntimeFactory = (caseName: string) => Promise<AppRuntimeUnderTest>;

const address = (db: ContractDatabase) => `${db.endpoint.host}:${db.endpoint.port}`;
const expectOf = (db: ContractDatabase) => ({ address: address(db), database: db.endpoint.database, systemIdentifier: db.systemIdentifier });
const healthy = (u: AppRuntimeUnderTest, db: ContractDatabase, timeoutMs = 30_000) => u.runtime.waitHealthy({ expect: expectOf(db), timeoutMs, intervalMs: 200 });

async function withRuntime(factory: AppRuntimeFactory, name: string, body: (u: AppRuntimeUnderTest) => Promise<void>): Promise<void> {
  const u = await factory(name);
  try {
    await body(u);
  } finally {
    await u.cleanup();
  }
}

/** Writes a connection to `db` as a new version and points the application at it. */
async function pointAt(u: AppRuntimeUnderTest, db: ContractDatabase) {
  const version = await u.secrets.write(u.connectionSecret, db.url);
  return u.runtime.pointAppAt({ database: db.name, endpoint: db.endpoint, secret: { name: version.name, version: version.version } });
}

/** No password, no connection URL in anything the runtime returned. */
function assertNoSecrets(u: AppRuntimeUnderTest, results: unknown[]): void {
  const text = JSON.stringify(results);
  for (const db of [u.databases.a, u.databases.b]) assert.ok(!text.includes(new URL(db.url).password), `the password of ${db.name} is in a result`);
  assert.ok(!text.includes('postgresql://'), 'a connection URL is in a result');
}

export function appRuntimeContract(platform: string, factory: AppRuntimeFactory): void {
  test(`${platform}: names itself in its own words, and adopts the hand-written connection as a version, once`, () => withRuntime(factory, 'adopt', async (u) => {
    const { names } = u.runtime;
    assert.ok(names.restart.includes(names.application) && names.rolloutStatus.includes(names.application), `the steps name the application: ${JSON.stringify(names)}`);
    assert.ok(names.connection, 'says where the connection is kept');
    const adopted = await u.runtime.adoptCurrentConnection(u.connectionSecret);
    assert.ok(adopted, 'the running application has a connection');
    assert.equal((await u.secrets.read(adopted)).value, u.databases.a.url, 'the version holds exactly what the application uses');
    const again = await u.runtime.adoptCurrentConnection(u.connectionSecret);
    assert.deepEqual(again, adopted, 'adopting again writes nothing new');
    const pointer = await u.runtime.currentPointer();
    assert.equal(pointer?.endpoint, formatEndpoint(u.databases.a.endpoint));
    assert.deepEqual(pointer?.secret, adopted);
    assertNoSecrets(u, [adopted, pointer, names]);
  }));

  test(`${platform}: point at a version, restart, roll out, answer healthy from the new database; a retried point changes nothing`, () => withRuntime(factory, 'point', async (u) => {
    const { a, b } = u.databases;
    await healthy(u, a);
    const before = await u.runtime.adoptCurrentConnection(u.connectionSecret);
    const pointed = await pointAt(u, b);
    assert.equal(pointed.changed, true);
    assert.equal(pointed.current.endpoint, formatEndpoint(b.endpoint));
    assert.equal(pointed.current.name, b.name);
    assert.equal(pointed.previous?.endpoint, formatEndpoint(a.endpoint));
    assert.deepEqual(pointed.previous?.secret, before);
    assert.deepEqual(pointed.runtime, u.runtime.names);
    const again = await u.runtime.pointAppAt({ database: b.name, endpoint: b.endpoint, secret: pointed.current.secret! });
    assert.equal(again.changed, false);
    assert.equal(again.previous?.endpoint, formatEndpoint(a.endpoint), 'the real previous pointer is kept');

    const restart = await u.runtime.restart();
    assert.ok(restart.started.length > 0 && !Number.isNaN(Date.parse(restart.restartedAt)), JSON.stringify(restart));
    const progress: RolloutStatus[] = [];
    const status = await u.runtime.waitRolledOut({ timeoutMs: 60_000, intervalMs: 200, onProgress: (s) => progress.push(s) });
    assert.equal(status.updated, status.desired);
    assert.equal(status.available, status.desired);
    assert.ok(progress.length >= 1 && progress.at(-1)!.updated === status.desired, 'progress is reported while it rolls');
    const health = await healthy(u, b);
    assert.equal(health.database.address, address(b));
    assert.ok(health.checks.length > 0 && health.checks.every((c) => c.passed), JSON.stringify(health.checks));
    assertNoSecrets(u, [pointed, again, restart, status, progress, health]);
  }));

  test(`${platform}: points the application's cache at a version beside its database connection, which stays as it was; a retried point changes nothing`, () => withRuntime(factory, 'cache', async (u) => {
    const { a, b } = u.databases;
    await u.runtime.adoptCurrentConnection(u.connectionSecret);
    await pointAt(u, b);
    const database = await u.runtime.currentPointer();
    const cachePassword = 'cache-password-never-shown';
    const version = await u.secrets.write(u.cacheSecret, `redis://:${cachePassword}@127.0.0.1:6390/0`);
    const target = { cache: 'restored-cache', endpoint: { host: '127.0.0.1', port: 6390, tls: false }, secret: { name: version.name, version: version.version } };
    const pointed = await u.runtime.pointAppAtCache(target);
    assert.equal(pointed.changed, true);
    assert.equal(pointed.current.endpoint, '127.0.0.1:6390');
    assert.equal(pointed.current.name, 'restored-cache');
    assert.deepEqual(pointed.runtime, u.runtime.names);
    assert.equal((await u.runtime.pointAppAtCache(target)).changed, false);
    assert.deepEqual(await u.runtime.currentPointer(), database, 'the database pointer is untouched');
    const back = await u.runtime.rollbackAppPointer();
    assert.equal(back.current.endpoint, formatEndpoint(a.endpoint), 'the database rollback still goes back to the database it kept');
    assert.equal((await u.runtime.pointAppAtCache(target)).changed, false, 'and leaves the cache where it was pointed');
    const text = JSON.stringify([pointed, back]);
    assert.ok(!text.includes(cachePassword) && !text.includes('redis://'), `no cache connection in a result: ${text}`);
  }));

  test(`${platform}: rolls back to the pointer it kept and answers from it again; a retried rollback changes nothing`, () => withRuntime(factory, 'rollback', async (u) => {
    const { a, b } = u.databases;
    await u.runtime.adoptCurrentConnection(u.connectionSecret);
    await pointAt(u, b);
    await u.runtime.restart();
    await u.runtime.waitRolledOut({ timeoutMs: 60_000, intervalMs: 200 });
    await healthy(u, b);
    const back = await u.runtime.rollbackAppPointer();
    assert.equal(back.changed, true);
    assert.equal(back.current.endpoint, formatEndpoint(a.endpoint));
    assert.equal((await u.runtime.rollbackAppPointer()).changed, false);
    await u.runtime.restart();
    await u.runtime.waitRolledOut({ timeoutMs: 60_000, intervalMs: 200 });
    assert.equal((await healthy(u, a)).database.address, address(a));
  }));

  test(`${platform}: a health wait for a database the application does not use times out, naming the one expected`, () => withRuntime(factory, 'health-timeout', async (u) => {
    const { a, b } = u.databases;
    await healthy(u, a);
    const polls: string[] = [];
    await assert.rejects(u.runtime.waitHealthy({ expect: expectOf(b), timeoutMs: 1500, intervalMs: 300, onPoll: (_n, answer) => polls.push(answer) }), (error: Error) => {
      assert.match(error.message, new RegExp(`did not answer healthy from ${address(b).replace(/\./g, '\\.')}/${b.endpoint.database}`));
      assert.match(error.message, /within 2 s; last answer: /);
      return true;
    });
    assert.ok(polls.length >= 2, `polled more than once: ${polls.join(' | ')}`);
  }));

  test(`${platform}: a restart that never becomes ready fails its rollout wait with the platform's words`, () => withRuntime(factory, 'broken-rollout', async (u) => {
    await healthy(u, u.databases.a);
    await u.breakRollouts();
    try {
      await u.runtime.restart();
      await assert.rejects(u.runtime.waitRolledOut({ timeoutMs: 90_000, intervalMs: 200 }), (error: Error) => {
        assert.ok(error instanceof RolloutFailedError, `a RolloutFailedError: ${error.name}: ${error.message}`);
        assert.match(error.message, u.failedRolloutSays);
        assert.ok(error.status && (error.status.updated < error.status.desired || error.status.available < error.status.desired), `it says where the rollout stopped: ${JSON.stringify(error.status)}`);
        return true;
      });
    } finally {
      await u.repairRollouts();
    }
  }));

  test(`${platform}: scales to 0 and back up, and says so when the replicas run`, () => withRuntime(factory, 'scale', async (u) => {
    assert.deepEqual(await u.runtime.scale(0, { timeoutMs: 60_000, intervalMs: 200 }), { replicas: 0 });
    assert.equal(await u.runningReplicas(), 0);
    const up = Math.min(2, u.maxReplicas);
    assert.deepEqual(await u.runtime.scale(up, { timeoutMs: 60_000, intervalMs: 200 }), { replicas: up });
    assert.equal(await u.runningReplicas(), up);
    await assert.rejects(u.runtime.scale(-1), /replicas: /);
  }));
}
