import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { createKubernetesSecretStore } from '../../activities/adapters/kubernetes';
import type { SecretStore } from '../../activities/ports/secret-store';
import { loadConfig, startKubernetesControlPlane, type KubernetesControlPlane } from '../../stack/kubernetes-control-plane';
import { appNamespace, secretText, seedNames } from '../support/kubernetes';
import { startInTempDir } from '../support/temp-server';
import { secretStoreContract } from './secret-store-cases';

// The SecretStore kept in Kubernetes Secrets, on a real API server, one namespace per case: the cases of
// the SecretStore contract every adapter passes (secret-store-cases.ts; `seed` puts a secret there as an
// operator does, `kubectl create secret generic <prefix><name> --from-literal=value=…`), then what only
// this adapter does (its layout in the Secret, pruning, the API server's 409, what the shipped Role lets it do).
let cp: KubernetesControlPlane & { stateDir: string };
let n = 0;

before(async () => {
  cp = await startInTempDir('dr-k8s-secret-store-', (stateDir) => startKubernetesControlPlane({ stateDir }));
});
after(async () => {
  await cp?.stop();
});

interface SecretStoreUnderTest {
  store: SecretStore;
  seed(name: string, value: string): Promise<void>;
  namespace: string;
  core: CoreV1Api;
}

/** A fresh namespace and a store in it, as the administrator (who may create Secrets). */
async function fresh(options: { keepVersions?: number } = {}): Promise<SecretStoreUnderTest> {
  const namespace = `secret-store-${++n}`;
  await cp.createNamespace(namespace);
  const core = cp.adminConfig().makeApiClient(CoreV1Api);
  const store = createKubernetesSecretStore({ kubeConfig: cp.adminConfig(), namespace, namePrefix: 'dr-runbooks-', keepVersions: options.keepVersions ?? 5 });
  return {
    store,
    namespace,
    core,
    seed: async (name, value) => {
      await core.createNamespacedSecret({ namespace, body: { metadata: { name: `dr-runbooks-${name}` }, stringData: { value } } });
    },
  };
}

secretStoreContract('Kubernetes Secrets (real API server)', () => fresh());

test('the port\'s basics: a hand-written secret reads as its value and becomes version 1 at the first write; previous, rollback, retried write', async () => {
  const { store, seed } = await fresh();
  await assert.rejects(store.read('app-database-connection'), /secret "app-database-connection" is not set: the Secret secret-store-\d+\/dr-runbooks-app-database-connection does not exist \(create it: kubectl create secret generic/);
  await seed('app-database-connection', 'postgresql://mita_app:one@db:5432/mita');
  assert.equal((await store.read('app-database-connection')).value, 'postgresql://mita_app:one@db:5432/mita');
  assert.equal(await store.readPrevious('app-database-connection'), undefined);
  const two = await store.write('app-database-connection', 'postgresql://mita_app:two@db:5432/mita');
  assert.equal(two.version, '2');
  assert.deepEqual(await store.readPrevious('app-database-connection').then((p) => [p?.version, p?.value]), ['1', 'postgresql://mita_app:one@db:5432/mita']);
  assert.equal((await store.write('app-database-connection', 'postgresql://mita_app:two@db:5432/mita')).version, '2', 'the current value again writes nothing');
  await store.makeCurrent('app-database-connection', '1');
  assert.equal((await store.read('app-database-connection')).value, 'postgresql://mita_app:one@db:5432/mita');
  assert.equal((await store.readPrevious('app-database-connection'))?.version, '2');
  await assert.rejects(store.makeCurrent('app-database-connection', '9'), /has no version 9 in the Secret .* \(have: 1, 2\)/);
  await store.write('created-by-a-runbook', 'value-1');
  assert.equal((await store.read('created-by-a-runbook')).version, '1');
  await assert.rejects(store.write('a b', 'x'), /secret name "a b" is not valid/);
  await assert.rejects(store.read('Production_Password'), /cannot be kept as the Kubernetes Secret "dr-runbooks-Production_Password": Secret names are lowercase/);
});

test('one Secret per name: the current value under `value` (what a pod may mount), each version under `version.<n>`, version ids that survive a rollback', async () => {
  const { store, core, namespace } = await fresh();
  await store.write('audit-db-password', 'first');
  await store.write('audit-db-password', 'second');
  const before = (await core.readNamespacedSecret({ namespace, name: 'dr-runbooks-audit-db-password' })).metadata?.resourceVersion;
  await store.makeCurrent('audit-db-password', '1');
  const secret = await core.readNamespacedSecret({ namespace, name: 'dr-runbooks-audit-db-password' });
  assert.notEqual(secret.metadata?.resourceVersion, before, 'a rollback is a write: the resourceVersion changes, so it cannot be the version id');
  assert.deepEqual(await secretText(core, namespace, 'dr-runbooks-audit-db-password'), { value: 'first', 'version.1': 'first', 'version.2': 'second' });
  assert.deepEqual(JSON.parse(secret.metadata!.annotations!['dr-runbooks.io/current-history']!), ['1', '2', '1']);
  assert.deepEqual(JSON.parse(secret.metadata!.annotations!['dr-runbooks.io/versions']!).map((v: { version: string }) => v.version), ['1', '2']);
  assert.equal((await store.read({ name: 'audit-db-password', version: '2' })).value, 'second');
});

test('only the last versions are kept (the Secret is limited to 1 MiB), never the current or the previous one', async () => {
  const { store, core, namespace } = await fresh({ keepVersions: 2 });
  for (let i = 1; i <= 6; i++) await store.write('app-database-connection', `value-${i}`);
  await store.makeCurrent('app-database-connection', '5');
  assert.deepEqual(Object.keys(await secretText(core, namespace, 'dr-runbooks-app-database-connection')).sort(), ['value', 'version.5', 'version.6']);
  await assert.rejects(store.read({ name: 'app-database-connection', version: '2' }), /has no version 2 .* \(have: 5, 6\)/);
  assert.equal((await store.readPrevious('app-database-connection'))?.version, '6');
  await store.write('app-database-connection', 'value-7');
  assert.deepEqual(Object.keys(await secretText(core, namespace, 'dr-runbooks-app-database-connection')).sort(), ['value', 'version.5', 'version.6', 'version.7'], 'the previous one (5) stays');
});

test('writers at the same time each get their own version: the API server\'s 409 on a stale resourceVersion re-reads and retries', async () => {
  const { store, namespace } = await fresh({ keepVersions: 20 });
  const other = createKubernetesSecretStore({ kubeConfig: cp.adminConfig(), namespace, namePrefix: 'dr-runbooks-', keepVersions: 20 });
  await store.write('app-database-connection', 'start');
  const written = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? store : other).write('app-database-connection', `writer-${i}`)));
  assert.equal(new Set(written.map((w) => w.version)).size, 8, `8 distinct versions: ${written.map((w) => w.version).join(', ')}`);
  for (const [i, w] of written.entries()) assert.equal((await store.read({ name: 'app-database-connection', version: w.version })).value, `writer-${i}`, 'no write was lost');
});

test('as the ServiceAccount of the shipped Role: it reads and writes the connection it is granted, and may not create a Secret or read another one', async () => {
  const namespace = `secret-store-${++n}`;
  const ns = await appNamespace(cp, namespace, { secretData: { 'database-url': 'postgresql://mita_app:one@db:5432/mita' }, replicas: 1 });
  const store = createKubernetesSecretStore({ kubeConfig: loadConfig(ns.serviceAccountKubeconfig), namespace, namePrefix: 'dr-runbooks-', keepVersions: 5 });
  const written = await store.write('app-database-connection', 'postgresql://mita_app:two@db:5432/mita');
  assert.equal((await store.read('app-database-connection')).version, written.version);
  // Granted by name in the Role, but nobody created it: the worker may not create it either.
  await assert.rejects(store.write('production-db-password', 'x'), /secret "production-db-password" cannot be written: the Secret .*\/dr-runbooks-production-db-password does not exist and the worker may not create Secrets .*: create it empty first, kubectl create secret generic dr-runbooks-production-db-password -n /);
  await assert.rejects(store.write('new-secret', 'x'), /reading Secret .*\/dr-runbooks-new-secret: .*forbidden/, 'a Secret the Role does not name is not even read');
  await ns.admin.core.createNamespacedSecret({ namespace, body: { metadata: { name: 'dr-runbooks-signing-key' }, stringData: { value: 'k' } } });
  await assert.rejects(store.read('signing-key'), /reading Secret .*\/dr-runbooks-signing-key: .*forbidden.* \(the worker's ServiceAccount is not allowed: its Role is deploy\/kubernetes\/rbac\.yaml\)/);
  assert.equal(seedNames.connectionStore, 'dr-runbooks-app-database-connection');
});
