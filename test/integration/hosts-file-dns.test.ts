import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createDnsActivities } from '../../activities/dns';
import { createMappingFileDns } from '../../activities/adapters/local/mapping-file-dns';
import { parseDnsMapping } from '../../activities/adapters/local/dns-mapping-file';
import { createLocalAppRuntime, type LocalAppRuntime } from '../../activities/adapters/local/local-app-runtime';
import { createSecretsDirectory } from '../../activities/adapters/local/secrets-directory';
import type { SecretStore } from '../../activities/ports/secret-store';
import { databaseUrl } from '../../lib/postgres-url';
import { seedFinancialDataset } from '../../demo/financial-dataset';
import { freePort } from '../../lib/ports';
import { superuser } from '../../activities/adapters/local/postgres/cluster';
import { appFigures, demoService, pidOf } from '../support/app-runtime';
import { startTestClusters, withClient } from '../support/clusters';

// The service connects to db.mita.internal; the mapping file decides which cluster that is.
const name = 'db.mita.internal';
let env: Awaited<ReturnType<typeof startTestClusters>>;
let runtime: LocalAppRuntime;
let mappingFile: string;
let secrets: SecretStore;
const systemIds: Record<string, string> = {};
const address = (cluster: string) => `127.0.0.1:${env.clusters[cluster]!.port}`;
const run = <T>(fn: () => Promise<T>) => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') }).run(fn) as Promise<T>;

before(async () => {
  env = await startTestClusters(['east', 'west']);
  const password = env.clusters.east!.password;
  for (const [cluster, seed] of [['east', 1], ['west', 2]] as const) {
    await withClient(env.clusters[cluster]!.url(), async (db) => {
      await seedFinancialDataset(db, { users: 20, transactionsPerUser: 2 }, seed);
      systemIds[cluster] = (await db.query('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0].id;
      // A DR copy has the same credentials as its source: the app's one URL must work on both.
      await db.query(`ALTER USER ${superuser} PASSWORD '${password}'`);
    });
  }
  mappingFile = path.join(env.dir, 'dns.json');
  secrets = createSecretsDirectory(path.join(env.dir, 'secrets'));
  runtime = createLocalAppRuntime({ envFile: path.join(env.dir, 'app.env'), port: await freePort(), dnsFile: mappingFile, ...demoService(secrets) });
});

after(async () => {
  await runtime?.stop();
  await env?.stop();
});

test('the service resolves its database through the mapping, and a switch moves it without a restart', async () => {
  const dns = createDnsActivities(createMappingFileDns({ mappingFile, defaultTtlSeconds: 1 }));
  const first = await run(() => dns.switchDnsTarget({ name, target: address('east') }));
  assert.equal(first.previousTarget, null);
  const endpoint = { host: name, port: 5432, database: 'postgres' };
  const secret = await secrets.write('app-database-connection', databaseUrl({ ...endpoint, user: superuser, password: env.clusters.east!.password }));
  await runtime.pointAppAt({ database: 'mita', endpoint, secret });
  const { started } = await runtime.restart();
  const east = await runtime.waitHealthy({ expect: { address: address('east'), database: 'postgres', systemIdentifier: systemIds.east }, timeoutMs: 30_000, intervalMs: 200 });
  assert.equal(east.database.host, name, 'the service reports the name it was given');
  assert.equal(appFigures(east).userCount, 20);

  const switched = await run(() => dns.switchDnsTarget({ name, target: address('west') }));
  assert.equal(switched.changed, true);
  assert.equal(switched.previousTarget, address('east'));
  assert.equal(Date.parse(switched.effectiveBy) - Date.parse(switched.switchedAt), 1000, 'effective after the 1 s TTL');
  const west = await runtime.waitHealthy({ expect: { address: address('west'), database: 'postgres', systemIdentifier: systemIds.west }, timeoutMs: 15_000, intervalMs: 200 });
  assert.equal(west.database.host, name);
  assert.equal(Number(readFileSync(runtime.pidFile, 'utf8')), pidOf(started[0]!), 'same process: no restart was needed');

  const retried = await run(() => dns.switchDnsTarget({ name, target: address('west') }));
  assert.equal(retried.changed, false);
  assert.deepEqual(await run(() => dns.describeDnsTarget({ name })), { name, target: address('west'), ttlSeconds: 1, updatedAt: switched.switchedAt });
  const mapping = parseDnsMapping(readFileSync(mappingFile, 'utf8'));
  assert.deepEqual(mapping.history.map((h) => [h.previousTarget, h.target]), [[null, address('east')], [address('east'), address('west')]]);
  assert.deepEqual(readdirSync(env.dir).filter((f) => f.includes('.tmp-')), [], 'no temporary files left behind');
});

test('a malformed switch is refused, non-retryable, naming the field, and changes nothing', async () => {
  const before = readFileSync(mappingFile, 'utf8');
  const dns = createDnsActivities(createMappingFileDns({ mappingFile }));
  await assert.rejects(run(() => dns.switchDnsTarget({ name, target: 'west-db' })), (e: Error & { type?: string; nonRetryable?: boolean }) => {
    assert.equal(e.type, 'InvalidInput');
    assert.equal(e.nonRetryable, true);
    assert.match(e.message, /^target: must be host:port/);
    return true;
  });
  assert.equal(readFileSync(mappingFile, 'utf8'), before);
});
