import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { createSecretsDirectory, secretEnvName } from '../../activities/adapters/local/secrets-directory';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('reads the file of that name (trimmed), or DR_SECRET_<NAME> from the environment first', async () => {
  writeFileSync(path.join(dir, 'production-db-password'), 'from-file\n');
  assert.equal((await createSecretsDirectory(dir, {}).read('production-db-password')).value, 'from-file');
  assert.equal(secretEnvName('production-db-password'), 'DR_SECRET_PRODUCTION_DB_PASSWORD');
  const overridden = await createSecretsDirectory(dir, { DR_SECRET_PRODUCTION_DB_PASSWORD: 'from-env' }).read('production-db-password');
  assert.deepEqual(overridden, { name: 'production-db-password', version: 'env', value: 'from-env' });
});

test('a missing secret says where it was looked for; a name that could leave the directory is refused', async () => {
  await assert.rejects(createSecretsDirectory(dir, {}).read('nowhere'), new RegExp(`^Error: secret "nowhere" is not set: export DR_SECRET_NOWHERE or put it in ${dir}/nowhere$`));
  await assert.rejects(createSecretsDirectory(undefined, {}).read('nowhere'), /put it in a secrets directory \(config: secretsDir\)/);
  await assert.rejects(createSecretsDirectory(dir, {}).read('../etc/passwd'), /secret name "\.\.\/etc\/passwd" is not valid/);
});

test('versions: a write becomes current, the hand-written value stays readable as the previous one, and can be made current again', async () => {
  const store = createSecretsDirectory(dir, {});
  writeFileSync(path.join(dir, 'app-connection'), 'postgresql://app:one@db:5432/mita\n');
  const second = await store.write('app-connection', 'postgresql://app:two@db:5432/mita');
  assert.equal(second.version, '2');
  assert.equal((await store.read('app-connection')).value, 'postgresql://app:two@db:5432/mita');
  assert.equal(readFileSync(path.join(dir, 'app-connection'), 'utf8'), 'postgresql://app:two@db:5432/mita', 'the file of that name holds the current value');
  assert.deepEqual(await store.write('app-connection', 'postgresql://app:two@db:5432/mita'), second, 'the same value again writes nothing (a retried step)');
  const previous = await store.readPrevious('app-connection');
  assert.equal(previous?.version, '1');
  assert.equal(previous?.value, 'postgresql://app:one@db:5432/mita');
  assert.equal((await store.read({ name: 'app-connection', version: '2' })).value, 'postgresql://app:two@db:5432/mita');
  await store.makeCurrent('app-connection', '1');
  assert.equal((await store.read('app-connection')).value, 'postgresql://app:one@db:5432/mita');
  assert.equal((await store.readPrevious('app-connection'))?.version, '2');
  await assert.rejects(store.makeCurrent('app-connection', '9'), /has no version 9 \(have: 1, 2\)/);
});

test('a secret the environment overrides is not written (nobody would read the write back)', async () => {
  const store = createSecretsDirectory(dir, { DR_SECRET_LOCKED: 'x' });
  await assert.rejects(store.write('locked', 'y'), /set by DR_SECRET_LOCKED in the worker's environment/);
  await assert.rejects(createSecretsDirectory(undefined, {}).write('free', 'y'), /no secrets directory is configured/);
});
