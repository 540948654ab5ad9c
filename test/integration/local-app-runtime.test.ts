import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createAppRuntimeActivities, type DatabaseTargetResolver } from '../../activities/app-runtime';
import { createSecretsDirectory } from '../../activities/adapters/local/secrets-directory';
import type { AppHealth } from '../../activities/ports/app-runtime';
import { createLocalAppRuntime, type LocalAppRuntime } from '../../activities/adapters/local/local-app-runtime';
import { seedFinancialDataset } from '../../demo/financial-dataset';
import { freePort } from '../../lib/ports';
import { superuser, type PostgresCluster } from '../../activities/adapters/local/postgres/cluster';
import { appFigures, demoService, pidOf } from '../support/app-runtime';
import { startTestClusters, withClient } from '../support/clusters';

// Cluster A is production, B the "recovered" instance; each seeded differently so answers tell them apart.
let env: Awaited<ReturnType<typeof startTestClusters>>;
let runtime: LocalAppRuntime;
let activities: ReturnType<typeof createAppRuntimeActivities>;
let port: number;
const sizes = { production: { users: 60, transactionsPerUser: 5 }, recovered: { users: 40, transactionsPerUser: 3 } };
const systemIds: Record<string, string> = {};
const results: unknown[] = [];
const bodies: string[] = [];

const activityEnvironment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
const cluster = (name: string): PostgresCluster => env.clusters[name]!;
const run = async <T>(fn: () => Promise<T>): Promise<T> => {
  const result = (await activityEnvironment().run(fn)) as T;
  results.push(result);
  return result;
};
const get = async (route: string) => {
  const response = await fetch(`http://127.0.0.1:${port}${route}`);
  const text = await response.text();
  bodies.push(text);
  return { status: response.status, body: JSON.parse(text) };
};

before(async () => {
  env = await startTestClusters(['production', 'recovered']);
  for (const [name, seed] of [['production', 1], ['recovered', 2]] as const) {
    await withClient(cluster(name).url(), async (db) => {
      await seedFinancialDataset(db, sizes[name], seed);
      systemIds[name] = (await db.query('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0].id;
    });
  }
  port = await freePort();
  const secrets = createSecretsDirectory(path.join(env.dir, 'secrets'));
  runtime = createLocalAppRuntime({ envFile: path.join(env.dir, 'financial-app.env'), port, ...demoService(secrets) });
  const targets: DatabaseTargetResolver = async (name) => {
    if (!env.clusters[name]) throw new Error(`"${name}" is not in the worker config`);
    return { name, host: '127.0.0.1', port: cluster(name).port, database: 'postgres', user: superuser, password: async () => cluster(name).password };
  };
  activities = createAppRuntimeActivities({ runtime, databases: targets, secrets, connectionSecret: 'app-database-connection' });
});

after(async () => {
  await runtime?.stop();
  await env?.stop();
});

test('the service starts on production and answers the seed check query and balances', async () => {
  await run(() => activities.pointAppAtDatabase({ database: 'production' }));
  const restart = await run(() => activities.restartApp());
  assert.equal(restart.started.length, 1);
  const health = await run(() => activities.waitUntilAppHealthy({ database: 'production', timeoutSeconds: 30, pollIntervalSeconds: 0.2 }));
  assert.equal(health.database.address, `127.0.0.1:${cluster('production').port}`);
  assert.equal(health.database.systemIdentifier, systemIds.production);
  assert.equal(appFigures(health).userCount, 60);
  assert.equal(appFigures(health).transactionCount, 300);

  const { status, body } = await get('/accounts/1/balance');
  assert.equal(status, 200);
  const ledger = await withClient(cluster('production').url(), async (db) => (await db.query(`SELECT coalesce(sum(amount), 0)::numeric(14,2)::text AS s FROM transactions WHERE account_id = 1`)).rows[0].s);
  assert.deepEqual(body, { accountId: '1', currency: 'USD', balance: ledger });
  assert.equal((await get('/accounts/999999/balance')).status, 404);
  assert.equal((await get('/accounts/abc/balance')).status, 400);
  assert.equal(Number(readFileSync(runtime.pidFile, 'utf8')), pidOf(restart.started[0]!));
});

test('pointAppAt + restart + waitHealthy moves the service to the recovered cluster, and rollback moves it back', async () => {
  const pointed = await run(() => activities.pointAppAtDatabase({ database: 'recovered' }));
  assert.equal(pointed.changed, true);
  const connection = (version: string) => ({ name: 'app-database-connection', version });
  assert.deepEqual(pointed.previous, { endpoint: `127.0.0.1:${cluster('production').port}/postgres`, name: 'production', secret: connection('1') });
  assert.deepEqual(pointed.current, { endpoint: `127.0.0.1:${cluster('recovered').port}/postgres`, name: 'recovered', secret: connection('2') });
  assert.equal(pointed.runtime?.restart, 'restart the application process');
  // The env file is only read at start: until the restart, the service still answers from production.
  assert.equal((await get('/health/database')).body.database.systemIdentifier, systemIds.production);
  const again = await run(() => activities.pointAppAtDatabase({ database: 'recovered' }));
  assert.equal(again.changed, false, 'a retried pointAppAt changes nothing and keeps the real previous pointer');
  assert.equal(again.previous?.name, 'production');

  const restart = await run(() => activities.restartApp());
  assert.equal(restart.stopped.length, 1);
  const heartbeats: unknown[] = [];
  const mock = activityEnvironment();
  mock.on('heartbeat', (d: unknown) => heartbeats.push(d));
  const health = await mock.run(() => activities.waitUntilAppHealthy({ database: 'recovered', timeoutSeconds: 30, pollIntervalSeconds: 0.2 })) as AppHealth;
  results.push(health);
  assert.equal(health.database.address, `127.0.0.1:${cluster('recovered').port}`);
  assert.equal(health.database.systemIdentifier, systemIds.recovered);
  assert.notEqual(systemIds.recovered, systemIds.production);
  assert.equal(appFigures(health).userCount, 40);
  assert.ok(heartbeats.length >= 1, 'waiting heartbeats while the new process starts');

  const rolledBack = await run(() => activities.rollbackAppDatabasePointer());
  assert.equal(rolledBack.current.name, 'production');
  await run(() => activities.restartApp());
  const back = await run(() => activities.waitUntilAppHealthy({ database: 'production', timeoutSeconds: 30, pollIntervalSeconds: 0.2 }));
  assert.equal(back.database.systemIdentifier, systemIds.production);
  assert.equal((await run(() => activities.rollbackAppDatabasePointer())).changed, false, 'a retried rollback changes nothing');
});

test('waitHealthy times out with a clear message when the target is down, and the service answers 503', async () => {
  await cluster('recovered').stop();
  await run(() => activities.pointAppAtDatabase({ database: 'recovered' }));
  await run(() => activities.restartApp());
  await assert.rejects(
    run(() => activities.waitUntilAppHealthy({ database: 'recovered', timeoutSeconds: 3, pollIntervalSeconds: 0.3 })),
    (error: Error & { type?: string }) => {
      assert.equal(error.type, 'AppNotHealthy');
      assert.match(error.message, new RegExp(`did not answer healthy from 127\\.0\\.0\\.1:${cluster('recovered').port}/postgres within 3 s; last answer: (HTTP 503 from 127\\.0\\.0\\.1:${cluster('recovered').port}/postgres: database .* is not answering|no answer from)`));
      return true;
    },
  );
  const down = await get('/health/database');
  assert.equal(down.status, 503);
  assert.equal(down.body.status, 'unavailable');
  assert.match(down.body.error, /is not answering: .*ECONNREFUSED/);
  assert.equal(down.body.database.address, `127.0.0.1:${cluster('recovered').port}`);
  // The wrong database answering is not "healthy" either.
  await assert.rejects(
    run(() => activities.waitUntilAppHealthy({ database: 'production', timeoutSeconds: 1, pollIntervalSeconds: 0.3 })),
    /did not answer healthy from 127\.0\.0\.1:\d+\/postgres \(system \d+\) within 1 s; last answer: HTTP 503/,
  );
  // Cancelling the wait stops it at once, as a cancelled activity (not as an unhealthy app).
  const mock = activityEnvironment();
  mock.once('heartbeat', () => mock.cancel());
  await assert.rejects(mock.run(() => activities.waitUntilAppHealthy({ database: 'recovered', timeoutSeconds: 60, pollIntervalSeconds: 0.2 })), (e: Error) => e.name === 'CancelledFailure');
  await assert.rejects(run(() => activities.pointAppAtDatabase({ database: 'nope' })), (e: Error & { type?: string; nonRetryable?: boolean }) => e.type === 'UnknownDatabase' && e.nonRetryable === true);
});

test('no password in any activity result or HTTP answer', () => {
  const everything = JSON.stringify(results) + bodies.join('\n');
  for (const name of ['production', 'recovered']) {
    assert.ok(!everything.includes(cluster(name).password), `the ${name} password leaked`);
    assert.ok(!everything.includes('postgresql://'), 'a connection URL leaked');
  }
  assert.ok(existsSync(`${path.join(env.dir, 'financial-app.env')}.previous`));
});

test('scale: the local runtime runs 0 or 1 process', async () => {
  await assert.rejects(run(() => activities.scaleApp({ replicas: 3 })), /replicas: the local runtime runs 0 or 1/);
  await run(() => activities.scaleApp({ replicas: 0 }));
  assert.equal(existsSync(runtime.pidFile), false);
  assert.deepEqual(await runtime.stop(), []);
});
