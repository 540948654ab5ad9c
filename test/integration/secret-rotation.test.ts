import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from 'pg';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createAppRuntimeActivities, type DatabaseTargetResolver } from '../../activities/app-runtime';
import { createLocalAppRuntime, type LocalAppRuntime } from '../../activities/adapters/local/local-app-runtime';
import { createSecretsDirectory } from '../../activities/adapters/local/secrets-directory';
import { superuser, type PostgresCluster } from '../../activities/adapters/local/postgres/cluster';
import type { SecretStore } from '../../activities/ports/secret-store';
import { createSecretRotationActivities, type CredentialRotation } from '../../activities/secret-rotation';
import { applicationRole, createApplicationRole, seedFinancialDataset } from '../../demo/financial-dataset';
import { freePort } from '../../lib/ports';
import { databaseUrl } from '../../lib/postgres-url';
import { signInAsApplication } from '../support/app-databases';
import { demoService } from '../support/app-runtime';
import { startTestClusters, withClient } from '../support/clusters';

// Secret rotation on real PostgreSQL 15 clusters with the local SecretStore and the demo service:
// "production" and "recovered" both carry the application role with production's password (as a
// physical restore does). The rotation changes it on the recovered one only, through the admin
// connection; the access check proves the old password refused there and the new one accepted.
let env: Awaited<ReturnType<typeof startTestClusters>>;
let runtime: LocalAppRuntime;
let secrets: SecretStore;
let app: ReturnType<typeof createAppRuntimeActivities>;
let rotation: ReturnType<typeof createSecretRotationActivities>;
const firstPassword = 'first-password-of-the-app';
let appPort: number;
const results: unknown[] = [];

const cluster = (name: string): PostgresCluster => env.clusters[name]!;
const run = async <T>(fn: () => Promise<T>): Promise<T> => {
  const result = (await new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') }).run(fn)) as T;
  results.push(result);
  return result;
};
const appUrl = (name: string, password: string) => databaseUrl({ host: '127.0.0.1', port: cluster(name).port, database: 'postgres', user: applicationRole, password });
const signIn = (name: string, password: string) => signInAsApplication({ host: '127.0.0.1', port: cluster(name).port, database: 'postgres' }, password);
const passwordOf = async (version: string) => decodeURIComponent(new URL((await secrets.read({ name: 'app-database-connection', version })).value).password);

before(async () => {
  env = await startTestClusters(['production', 'recovered', 'trusting']);
  for (const [name, seed] of [['production', 1], ['recovered', 2], ['trusting', 3]] as const) {
    await withClient(cluster(name).url(), async (db) => {
      await seedFinancialDataset(db, { users: 20, transactionsPerUser: 3 }, seed);
      await createApplicationRole(db, firstPassword);
    });
  }
  // Every statement is logged on the recovered instance: the password must not be among them.
  await withClient(cluster('recovered').url(), async (db) => {
    await db.query("ALTER SYSTEM SET log_statement = 'all'");
    await db.query('SELECT pg_reload_conf()');
  });
  secrets = createSecretsDirectory(path.join(env.dir, 'secrets'));
  appPort = await freePort();
  runtime = createLocalAppRuntime({ envFile: path.join(env.dir, 'financial-app.env'), port: appPort, ...demoService(secrets) });
  const databases: DatabaseTargetResolver = async (name) => {
    if (!env.clusters[name]) throw new Error(`"${name}" is not in the worker config`);
    return { name, host: '127.0.0.1', port: cluster(name).port, database: 'postgres', user: superuser, password: async () => cluster(name).password };
  };
  const wiring = { runtime, databases, secrets, connectionSecret: 'app-database-connection' };
  app = createAppRuntimeActivities(wiring);
  rotation = createSecretRotationActivities({ ...wiring, applicationRole });
  // The application as an operator set it up: its env file written by hand, signed in to production as the role.
  writeFileSync(path.join(env.dir, 'financial-app.env'), `DATABASE_URL=${appUrl('production', firstPassword)}\n`);
  await runtime.restart();
  await runtime.waitHealthy({ timeoutMs: 30_000 });
});

after(async () => {
  await runtime?.stop();
  await env?.stop();
});

let rotated: CredentialRotation;

test('rotation: a new password for the role on the instance the application moves to, stored as a new version; the version the application held is kept first', async () => {
  rotated = await run(() => rotation.rotateDatabaseSecret({ database: 'recovered' }));
  assert.equal(rotated.role, applicationRole);
  assert.equal(rotated.reused, false);
  assert.deepEqual(rotated.previous, { name: 'app-database-connection', version: '1' }, 'the hand-written connection was adopted as version 1');
  assert.deepEqual(rotated.secret, { name: 'app-database-connection', version: '2' });
  assert.equal(rotated.endpoint, `127.0.0.1:${cluster('recovered').port}/postgres`);
  assert.equal((await secrets.read({ name: 'app-database-connection', version: '1' })).value, appUrl('production', firstPassword));
  const newPassword = await passwordOf('2');
  assert.notEqual(newPassword, firstPassword);
  assert.ok(newPassword.length >= 40, 'a long random password');

  assert.equal(await signIn('recovered', newPassword), 'accepted', 'the SCRAM verifier the worker computed is the password');
  assert.equal(await signIn('recovered', firstPassword), '28P01', 'the old password is refused on the recovered instance at once');
  assert.equal(await signIn('production', firstPassword), 'accepted', 'production (what a rollback goes back to) is not touched');
  const stored = await withClient(cluster('recovered').url(), async (db) => (await db.query<{ p: string }>('SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1', [applicationRole])).rows[0]!.p);
  assert.match(stored, /^SCRAM-SHA-256\$4096:/);
  const serverLog = readFileSync(path.join(cluster('recovered').dir, 'postgres.log'), 'utf8');
  assert.match(serverLog, /statement: ALTER ROLE "mita_app" PASSWORD 'SCRAM-SHA-256\$4096:/, 'the server logs the statement, with a verifier in it');
  assert.ok(!serverLog.includes(newPassword), 'the password itself never reached the server');
});

test('a retried rotation finds the version its earlier attempt wrote and changes nothing', async () => {
  const again = await run(() => rotation.rotateDatabaseSecret({ database: 'recovered' }));
  assert.equal(again.reused, true);
  assert.deepEqual(again.secret, rotated.secret);
  assert.deepEqual(again.previous, rotated.previous);
  assert.equal(await signIn('recovered', await passwordOf('2')), 'accepted');
});

test('point → restart → rollout → healthy on the new password; revoking ends the sessions the old password opened, and the access check passes', async () => {
  // A session opened with the old password before the rotation outlives a password change in PostgreSQL.
  const old = new Client({ connectionString: appUrl('trusting', firstPassword) });
  await old.connect();
  old.on('error', () => undefined);
  const trustingRotation = await run(() => rotation.rotateDatabaseSecret({ database: 'trusting' }));
  assert.equal((await old.query('SELECT 1 AS one')).rows[0].one, 1, 'still connected after the password changed');

  const pointed = await run(() => app.pointAppAtDatabase({ database: 'trusting', secret: trustingRotation.secret }));
  assert.equal(pointed.changed, true);
  assert.deepEqual(pointed.current.secret, trustingRotation.secret);
  await run(() => app.restartApp());
  const rolled = await run(() => app.waitForAppRollout({}));
  assert.equal(rolled.updated, 1);
  assert.match(rolled.message, /^process \d+ is running$/);
  const health = await run(() => app.waitUntilAppHealthy({ database: 'trusting', timeoutSeconds: 30, pollIntervalSeconds: 0.2 }));
  assert.equal(health.database.port, cluster('trusting').port, 'the application signs in as the role with its new password');

  const revoked = await run(() => rotation.revokeOldDatabaseCredential({ rotation: trustingRotation }));
  assert.equal(revoked.sessionsEnded, 1);
  assert.equal(revoked.oldPassword, 'refused');
  assert.match(revoked.detail, /^old password of mita_app refused, new one accepted, 1 older session\(s\) ended$/);
  await assert.rejects(old.query('SELECT 1'), 'the old session is gone');
  assert.equal((await fetch(`http://127.0.0.1:${appPort}/health/database`)).status, 200, 'the application (signed in after the rotation) keeps its sessions');
});

test('the access check fails loudly when PostgreSQL does not check the password at all (a trust line in pg_hba.conf)', async () => {
  // On "recovered", which the application does not use now: rotating where it runs would lock it out until its restart.
  const hba = path.join(cluster('recovered').dataDir, 'pg_hba.conf');
  const original = readFileSync(hba, 'utf8');
  writeFileSync(hba, `host all ${applicationRole} 127.0.0.1/32 trust\n${original}`);
  await withClient(cluster('recovered').url(), (db) => db.query('SELECT pg_reload_conf()'));
  try {
    const rotated = await run(() => rotation.rotateDatabaseSecret({ database: 'recovered' }));
    await assert.rejects(run(() => rotation.revokeOldDatabaseCredential({ rotation: { ...rotated, previous: { name: 'app-database-connection', version: '1' } } })), (error: Error & { type?: string; nonRetryable?: boolean }) => {
      assert.equal(error.type, 'CredentialNotRevoked');
      assert.equal(error.nonRetryable, true);
      assert.match(error.message, /the old password of "mita_app" \(app-database-connection version 1\) is still accepted by recovered: PostgreSQL does not check it \(a trust or peer line in pg_hba\.conf/);
      return true;
    });
  } finally {
    writeFileSync(hba, original);
    await withClient(cluster('recovered').url(), (db) => db.query('SELECT pg_reload_conf()'));
  }
});

test('a rollback makes the version the application held current again and points it back', async () => {
  const toRecovered = await run(() => rotation.rotateDatabaseSecret({ database: 'recovered' }));
  await run(() => app.pointAppAtDatabase({ database: 'recovered', secret: toRecovered.secret }));
  const back = await run(() => rotation.restorePreviousAppConnection({ rotation: toRecovered, database: 'trusting' }));
  assert.equal(back.current.name, 'trusting');
  assert.deepEqual(back.current.secret, toRecovered.previous);
  assert.equal((await secrets.read('app-database-connection')).version, toRecovered.previous!.version, 'the previous version is current in the store');
  await run(() => app.restartApp());
  const health = await run(() => app.waitUntilAppHealthy({ database: 'trusting', timeoutSeconds: 30, pollIntervalSeconds: 0.2 }));
  assert.equal(health.database.port, cluster('trusting').port);
});

test('without app.databaseRole, or for a role the instance does not have, the rotation refuses before changing anything', async () => {
  const wiring = { runtime, databases: async (name: string) => ({ name, host: '127.0.0.1', port: cluster('recovered').port, database: 'postgres', user: superuser, password: async () => cluster('recovered').password }), secrets, connectionSecret: 'app-database-connection' };
  const versionsBefore = (await secrets.read('app-database-connection')).version;
  await assert.rejects(run(() => createSecretRotationActivities(wiring).rotateDatabaseSecret({ database: 'recovered' })), (error: Error & { type?: string }) =>
    error.type === 'CredentialRotationFailed' && /app\.databaseRole is not configured/.test(error.message));
  await assert.rejects(run(() => createSecretRotationActivities({ ...wiring, applicationRole: 'ledger_app' }).rotateDatabaseSecret({ database: 'recovered' })), (error: Error & { type?: string }) =>
    error.type === 'CredentialRotationFailed' && /role "ledger_app" \(app\.databaseRole\) does not exist on recovered/.test(error.message));
  assert.equal((await secrets.read('app-database-connection')).version, versionsBefore, 'no version was written');
});

test('no password in any result: only version ids', async () => {
  const everything = JSON.stringify(results);
  for (const version of ['1', '2', '3', '4', '5']) {
    const value = await secrets.read({ name: 'app-database-connection', version }).catch(() => undefined);
    if (value) assert.ok(!everything.includes(new URL(value.value).password), `the password of version ${version} leaked`);
  }
  assert.ok(!everything.includes('postgresql://'), 'no connection URL');
});
