import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubernetesObject, type V1ConfigMap } from '@kubernetes/client-node';
import YAML from 'yaml';
import { createKubernetesAppRuntime, createKubernetesSecretStore } from '../../activities/adapters/kubernetes';
import { workerConfigSchema } from '../../worker/config';
import { loadConfig, startKubernetesControlPlane, statusOf, type KubernetesControlPlane } from '../../stack/kubernetes-control-plane';
import { eventually } from '../support/eventually';
import { appNamespace, applyManifests, deploymentManifest, manifestObjects, rolledOut, seedNames } from '../support/kubernetes';
import { startInTempDir } from '../support/temp-server';

// What ships in deploy/kubernetes/, applied to a real API server: the least-privilege Role lets the
// adapters do their work as its ServiceAccount and refuses everything else; the worker's own manifests
// (ConfigMap with the config, ServiceAccount, Deployment) run, and kwok makes the worker's pods ready.
let cp: KubernetesControlPlane & { stateDir: string };

before(async () => {
  cp = await startInTempDir('dr-k8s-deploy-', (stateDir) => startKubernetesControlPlane({ stateDir }));
});
after(async () => {
  await cp?.stop();
});

const restartPatch = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } };
const strategicMerge = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

test('as the ServiceAccount of the shipped Role the adapters point, restart, wait and scale; everything else is refused (403)', async () => {
  const namespace = 'least-privilege';
  const url = 'postgresql://mita_app:one@db.mita.internal:5432/mita';
  const ns = await appNamespace(cp, namespace, { secretData: { 'database-url': url }, replicas: 2 });
  await cp.createNamespace('elsewhere');
  await ns.admin.core.createNamespacedSecret({ namespace: 'elsewhere', body: { metadata: { name: seedNames.secret }, stringData: { 'database-url': url } } });
  await ns.admin.core.createNamespacedSecret({ namespace, body: { metadata: { name: 'payments-signing-key' }, stringData: { key: 'k' } } });
  await ns.admin.apps.createNamespacedDeployment({ namespace, body: deploymentManifest('payments-api', { replicas: 1 }) });

  const asAdapter = loadConfig(ns.serviceAccountKubeconfig);
  const secrets = createKubernetesSecretStore({ kubeConfig: asAdapter, namespace, namePrefix: 'dr-runbooks-', keepVersions: 5 });
  const runtime = createKubernetesAppRuntime({ primary: { kubeConfig: asAdapter, namespace, deployment: seedNames.deployment }, secret: seedNames.secret, secretKeys: { url: 'database-url' }, secrets, rolloutTimeoutMs: 60_000, pollIntervalMs: 200 });
  // Everything a cutover and a region outage do, as the adapter.
  const adopted = await runtime.adoptCurrentConnection('app-database-connection');
  const version = await secrets.write('app-database-connection', 'postgresql://mita_app:two@10.0.0.7:5432/mita');
  const pointed = await runtime.pointAppAt({ database: 'restored', endpoint: { host: '10.0.0.7', port: 5432, database: 'mita' }, secret: { name: version.name, version: version.version } });
  assert.equal(pointed.previous?.secret?.version, adopted?.version);
  await runtime.restart();
  assert.equal((await runtime.waitRolledOut({ intervalMs: 200 })).updated, 2);
  assert.deepEqual(await runtime.scale(3, { intervalMs: 200 }), { replicas: 3 });
  assert.equal((await runtime.waitHealthy({ timeoutMs: 10_000, intervalMs: 200, expect: { address: '10.0.0.7:5432', database: 'mita' } })).checks[0]?.detail, '3 of 3 available');
  // A cache cutover needs the key its pods read the Redis URL from: without one it is refused, naming the key, and the Secret is unchanged.
  const cacheVersion = await secrets.write('app-cache-connection', 'redis://:c@10.0.0.8:6379/0');
  const before = await ns.admin.core.readNamespacedSecret({ namespace, name: seedNames.secret });
  await assert.rejects(runtime.pointAppAtCache({ cache: 'restored-cache', endpoint: { host: '10.0.0.8', port: 6379, tls: false }, secret: { name: cacheVersion.name, version: cacheVersion.version } }), (error: Error) => {
    assert.equal(error.name, 'AppRuntimeRefusedError');
    assert.match(error.message, /cannot point deployment\/mita-backend at the cache restored-cache: no key of Secret least-privilege\/mita-db-config is configured for its Redis URL \(set app\.kubernetes\.cacheSecretKey/);
    return true;
  });
  assert.equal((await ns.admin.core.readNamespacedSecret({ namespace, name: seedNames.secret })).metadata?.resourceVersion, before.metadata?.resourceVersion);

  const core = asAdapter.makeApiClient(CoreV1Api);
  const apps = asAdapter.makeApiClient(AppsV1Api);
  const refused: Array<[string, () => Promise<unknown>]> = [
    ['reading a Secret the Role does not name', () => core.readNamespacedSecret({ namespace, name: 'payments-signing-key' })],
    ['listing Secrets', () => core.listNamespacedSecret({ namespace })],
    ['creating a Secret', () => core.createNamespacedSecret({ namespace, body: { metadata: { name: 'dr-runbooks-new' } } })],
    ['deleting the Secret it may update', () => core.deleteNamespacedSecret({ namespace, name: seedNames.secret })],
    ['patching (not replacing) the Secret', () => core.patchNamespacedSecret({ namespace, name: seedNames.secret, body: { data: {} } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))],
    ['the same Secret in another namespace', () => core.readNamespacedSecret({ namespace: 'elsewhere', name: seedNames.secret })],
    ['updating a password Secret it may only read', () => core.replaceNamespacedSecret({ namespace, name: 'dr-runbooks-production-db-password', body: { metadata: { name: 'dr-runbooks-production-db-password' } } })],
    ['restarting another Deployment', () => apps.patchNamespacedDeployment({ namespace, name: 'payments-api', body: restartPatch }, strategicMerge)],
    ['replacing its Deployment (only patch is granted)', async () => apps.replaceNamespacedDeployment({ namespace, name: seedNames.deployment, body: await ns.admin.apps.readNamespacedDeployment({ namespace, name: seedNames.deployment }) })],
    ['deleting its Deployment', () => apps.deleteNamespacedDeployment({ namespace, name: seedNames.deployment })],
    ['scaling another Deployment', () => apps.patchNamespacedDeploymentScale({ namespace, name: 'payments-api', body: { spec: { replicas: 5 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))],
    ['listing Deployments', () => apps.listNamespacedDeployment({ namespace })],
    ['listing pods', () => core.listNamespacedPod({ namespace })],
    ['reading pod logs', async () => core.readNamespacedPodLog({ namespace, name: (await ns.admin.core.listNamespacedPod({ namespace })).items[0]!.metadata!.name! })],
  ];
  for (const [what, call] of refused) {
    const error = await call().then(() => undefined, (e: unknown) => e);
    assert.equal(statusOf(error), 403, `${what} is refused with 403`);
  }
  // The adapter's own words for a refusal point at the Role.
  const outside = createKubernetesAppRuntime({ primary: { kubeConfig: asAdapter, namespace, deployment: 'payments-api' }, secret: seedNames.secret, secretKeys: { url: 'database-url' }, secrets, rolloutTimeoutMs: 10_000 });
  await assert.rejects(outside.restart(), /reading deployment\/payments-api in namespace least-privilege: .*forbidden.*\(the worker's ServiceAccount is not allowed: its Role is deploy\/kubernetes\/rbac\.yaml\)/);
  // Nothing it was refused changed anything.
  assert.equal((await ns.admin.apps.readNamespacedDeployment({ namespace, name: 'payments-api' })).spec?.replicas, 1);
  assert.ok(await ns.admin.core.readNamespacedSecret({ namespace, name: 'payments-signing-key' }));
});

test('the worker\'s manifests apply to the API server: its config validates, its pods run as the ServiceAccount and become ready', async () => {
  const namespace = 'dr-worker';
  await cp.createNamespace(namespace);
  const applied = await applyManifests(cp.adminConfig(), namespace, 'rbac.yaml', 'secret-store.yaml', 'worker.yaml');
  assert.deepEqual(applied.map((o: KubernetesObject) => `${o.kind}/${o.metadata?.name}`), [
    'ServiceAccount/dr-runbooks', 'Role/dr-runbooks', 'RoleBinding/dr-runbooks', 'Secret/dr-runbooks-app-database-connection', 'Secret/dr-runbooks-app-cache-connection', 'ConfigMap/dr-runbooks-config', 'Deployment/dr-runbooks-worker',
  ]);
  const core = cp.adminConfig().makeApiClient(CoreV1Api);
  const apps = cp.adminConfig().makeApiClient(AppsV1Api);
  // The Secret it mounts (the DR cluster's kubeconfig) is the operator's to create, as its header says.
  await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'dr-runbooks-dr-cluster-kubeconfig' }, stringData: { kubeconfig: 'apiVersion: v1\nkind: Config\n' } } });
  const worker = await eventually('the worker Deployment to roll out', 60_000, () => rolledOut(apps, namespace, 'dr-runbooks-worker'), 200);
  assert.equal(worker.status?.readyReplicas, 2);
  const pods = (await core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/name=dr-runbooks-worker' })).items;
  assert.equal(pods.length, 2);
  for (const pod of pods) {
    assert.equal(pod.spec?.serviceAccountName, 'dr-runbooks');
    assert.ok(pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), `${pod.metadata?.name} is ready`);
    assert.equal(pod.spec?.containers[0]?.env?.find((e) => e.name === 'DR_CONFIG')?.value, '/etc/dr-runbooks/config.yaml');
  }

  // The config in the ConfigMap is a worker config, by the same schema as every config.
  const configMap = await core.readNamespacedConfigMap({ namespace, name: 'dr-runbooks-config' }) as V1ConfigMap;
  const parsed = workerConfigSchema.safeParse(YAML.parse(configMap.data!['config.yaml']!));
  assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
  assert.deepEqual(parsed.data.kubernetes?.clusters['mita-production'], { inCluster: true });
  assert.equal(parsed.data.app?.kubernetes?.deployment, seedNames.deployment);
  assert.equal(parsed.data.app?.kubernetes?.secret, seedNames.secret);
  // Every Secret the config makes the worker read or write is one the Role names.
  const role = manifestObjects('rbac.yaml', namespace).find((o) => o.kind === 'Role') as KubernetesObject & { rules: Array<{ resources: string[]; resourceNames: string[]; verbs: string[] }> };
  const named = (verb: string) => role.rules.filter((r) => r.resources.includes('secrets') && r.verbs.includes(verb)).flatMap((r) => r.resourceNames);
  const prefix = parsed.data.secretStore!.kubernetes!.namePrefix;
  for (const db of Object.values(parsed.data.databases)) assert.ok(named('get').includes(`${prefix}${db.passwordSecret}`), `the Role lets the worker read ${prefix}${db.passwordSecret}`);
  assert.ok(named('update').includes(`${prefix}${parsed.data.app!.connectionSecret}`), 'and write the application\'s connection');
  assert.equal(parsed.data.audit?.headSigning?.kind, 'ed25519', 'the audit trail\'s heads are signed');
  assert.ok(named('get').includes(`${prefix}${parsed.data.audit!.headSigning!.keySecret}`), `the Role lets the worker read the head signing key ${prefix}${parsed.data.audit!.headSigning!.keySecret}`);
  assert.ok(named('update').includes(parsed.data.app!.kubernetes!.secret), 'and replace the application\'s Secret');
});
