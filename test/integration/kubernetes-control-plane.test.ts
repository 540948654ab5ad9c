import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AppsV1Api, CoreV1Api, PatchStrategy, RbacAuthorizationV1Api, setHeaderOptions, VersionApi } from '@kubernetes/client-node';
import YAML from 'yaml';
import { PrerequisiteError } from '../../lib/prerequisite-error';
import { loadConfig, neverReadyAnnotation, readyAfterAnnotation, startKubernetesControlPlane, statusOf, type KubernetesControlPlane } from '../../stack/kubernetes-control-plane';
import { eventually } from '../support/eventually';
import { deploymentManifest, rolledOut as rolledOutDeployment } from '../support/kubernetes';
import { startInTempDir } from '../support/temp-server';

// One real control plane (etcd, kube-apiserver, controller manager, scheduler, kwok) for the file; one namespace per test.
let cp: KubernetesControlPlane & { stateDir: string };
let core: CoreV1Api;
let apps: AppsV1Api;

before(async () => {
  cp = await startInTempDir('dr-k8s-', (stateDir) => startKubernetesControlPlane({ stateDir }));
  core = cp.adminConfig().makeApiClient(CoreV1Api);
  apps = cp.adminConfig().makeApiClient(AppsV1Api);
});

after(async () => {
  await cp?.stop();
});

const deployment = deploymentManifest;
const rolledOut = (namespace: string, name: string) => rolledOutDeployment(apps, namespace, name);

test('the API server is a real Kubernetes v1.37.2 on verified TLS, and a Deployment of 3 replicas becomes available', async () => {
  const version = await cp.adminConfig().makeApiClient(VersionApi).getCode();
  assert.equal(version.gitVersion, 'v1.37.2');
  assert.equal(version.minor, '37');
  const kubeconfig = YAML.parse(readFileSync(cp.kubeconfigPath, 'utf8'));
  assert.match(kubeconfig.clusters[0].cluster.server, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(kubeconfig.clusters[0].cluster['insecure-skip-tls-verify'], undefined);

  await cp.createNamespace('available');
  await apps.createNamespacedDeployment({ namespace: 'available', body: deployment('mita-backend') });
  const done = await eventually('3 of 3 available', 30_000, () => rolledOut('available', 'mita-backend'));
  assert.equal(done.status?.readyReplicas, 3);
  const pods = await core.listNamespacedPod({ namespace: 'available', labelSelector: 'app=mita-backend' });
  assert.equal(pods.items.length, 3);
  for (const pod of pods.items) {
    assert.equal(pod.spec?.nodeName, 'kwok-node-0', 'scheduled by kube-scheduler onto the kwok node');
    assert.equal(pod.status?.phase, 'Running');
  }
});

test('replacing a Secret with a stale resourceVersion is refused with 409 Conflict', async () => {
  await cp.createNamespace('secret-conflict');
  const namespace = 'secret-conflict';
  const created = await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'mita-db-config' }, stringData: { DATABASE_HOST: 'primary.db' } } });
  const stale = created.metadata?.resourceVersion;
  const replaced = await core.replaceNamespacedSecret({ namespace, name: 'mita-db-config', body: { metadata: { name: 'mita-db-config', resourceVersion: stale }, stringData: { DATABASE_HOST: 'replica.db' } } });
  assert.notEqual(replaced.metadata?.resourceVersion, stale);

  const conflict = await core.replaceNamespacedSecret({ namespace, name: 'mita-db-config', body: { metadata: { name: 'mita-db-config', resourceVersion: stale }, stringData: { DATABASE_HOST: 'elsewhere.db' } } })
    .then(() => undefined, (error: unknown) => error);
  assert.equal(statusOf(conflict), 409);
  const current = await core.readNamespacedSecret({ namespace, name: 'mita-db-config' });
  assert.equal(Buffer.from(current.data?.DATABASE_HOST ?? '', 'base64').toString(), 'replica.db', 'the refused replace changed nothing');
});

test('a rollout restart (strategic-merge patch of the restartedAt template annotation) advances observedGeneration and replaces every pod', async () => {
  const namespace = 'rollout-restart';
  await cp.createNamespace(namespace);
  await apps.createNamespacedDeployment({ namespace, body: deployment('mita-backend') });
  const before = await eventually('the first rollout', 30_000, () => rolledOut(namespace, 'mita-backend'));
  const oldPods = new Set((await core.listNamespacedPod({ namespace, labelSelector: 'app=mita-backend' })).items.map((p) => p.metadata?.name));

  const restartedAt = new Date().toISOString();
  const patched = await apps.patchNamespacedDeployment(
    { namespace, name: 'mita-backend', body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': restartedAt } } } } } },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
  assert.equal(patched.metadata?.generation, (before.metadata?.generation ?? 0) + 1);
  assert.equal(patched.spec?.template.metadata?.annotations?.['mita.example/team'], 'payments', 'a merge, not a replacement of the template');

  const after = await eventually('the restart to roll out', 30_000, () => rolledOut(namespace, 'mita-backend'));
  assert.ok((after.status?.observedGeneration ?? 0) >= (patched.metadata?.generation ?? Infinity));
  const pods = await eventually('the old pods to be gone', 30_000, async () => {
    const list = (await core.listNamespacedPod({ namespace, labelSelector: 'app=mita-backend' })).items;
    return list.length === 3 ? list : undefined;
  });
  for (const pod of pods) {
    assert.ok(!oldPods.has(pod.metadata?.name), `pod ${pod.metadata?.name} is new`);
    assert.equal(pod.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], restartedAt);
  }
});

test('a Deployment whose pods never become ready reports ProgressDeadlineExceeded with the controller\'s message', async () => {
  const namespace = 'never-ready';
  await cp.createNamespace(namespace);
  await apps.createNamespacedDeployment({ namespace, body: deployment('mita-backend', { annotations: { [neverReadyAnnotation]: 'true' }, progressDeadlineSeconds: 3 }) });
  const condition = await eventually('ProgressDeadlineExceeded', 60_000, async () => {
    const d = await apps.readNamespacedDeployment({ namespace, name: 'mita-backend' });
    return d.status?.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
  });
  assert.equal(condition.status, 'False');
  assert.match(condition.message ?? '', /ReplicaSet "mita-backend-[a-z0-9]+" has timed out progressing/);
  const d = await apps.readNamespacedDeployment({ namespace, name: 'mita-backend' });
  assert.equal(d.status?.availableReplicas ?? 0, 0);
  const pods = (await core.listNamespacedPod({ namespace, labelSelector: 'app=mita-backend' })).items;
  assert.ok(pods.length > 0 && pods.every((p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'False')), 'running, never ready');
});

test('pods annotated with a ready-after delay become ready no sooner than that', async () => {
  const namespace = 'slow-ready';
  await cp.createNamespace(namespace);
  await apps.createNamespacedDeployment({ namespace, body: deployment('mita-backend', { replicas: 1, annotations: { [readyAfterAnnotation]: '3s' } }) });
  await eventually('the slow pod to become available', 30_000, () => rolledOut(namespace, 'mita-backend'));
  const [pod] = (await core.listNamespacedPod({ namespace, labelSelector: 'app=mita-backend' })).items;
  const ready = pod?.status?.conditions?.find((c) => c.type === 'Ready');
  const created = pod?.metadata?.creationTimestamp;
  assert.ok(ready?.lastTransitionTime && created);
  // Timestamps have whole seconds: a 3 s delay shows as at least 2 s.
  assert.ok(new Date(ready.lastTransitionTime).getTime() - new Date(created).getTime() >= 2000, `ready at ${ready.lastTransitionTime.toISOString()}, created ${created.toISOString()}`);
});

test('a ServiceAccount bound to a small Role may do what the Role allows and is refused (403) everything else', async () => {
  const namespace = 'least-privilege';
  await cp.createNamespace(namespace);
  await cp.createNamespace('elsewhere');
  const rbac = cp.adminConfig().makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'dr-runbooks' } } });
  await rbac.createNamespacedRole({ namespace, body: {
    metadata: { name: 'dr-runbooks' },
    rules: [
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['mita-db-config'], verbs: ['get', 'update'] },
      { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['mita-backend'], verbs: ['get'] },
    ],
  } });
  await rbac.createNamespacedRoleBinding({ namespace, body: {
    metadata: { name: 'dr-runbooks' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'dr-runbooks' },
    subjects: [{ kind: 'ServiceAccount', name: 'dr-runbooks', namespace }],
  } });
  for (const ns of [namespace, 'elsewhere']) {
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'mita-db-config' }, stringData: { DATABASE_HOST: 'primary.db' } } });
  }
  await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'payments-signing-key' }, stringData: { key: 'k' } } });
  await apps.createNamespacedDeployment({ namespace, body: deployment('mita-backend', { replicas: 1 }) });

  const asAdapter = loadConfig(await cp.serviceAccountKubeconfig(namespace, 'dr-runbooks'));
  const adapterCore = asAdapter.makeApiClient(CoreV1Api);
  const adapterApps = asAdapter.makeApiClient(AppsV1Api);
  // RBAC reads Roles from an informer: the grant is visible a moment after it is created.
  const secret = await eventually('the Role to take effect', 10_000, () => adapterCore.readNamespacedSecret({ namespace, name: 'mita-db-config' }));
  await adapterCore.replaceNamespacedSecret({ namespace, name: 'mita-db-config', body: { metadata: { name: 'mita-db-config', resourceVersion: secret.metadata?.resourceVersion }, stringData: { DATABASE_HOST: 'replica.db' } } });
  assert.equal((await adapterApps.readNamespacedDeployment({ namespace, name: 'mita-backend' })).metadata?.name, 'mita-backend');

  const refused = async (what: string, call: () => Promise<unknown>) => {
    const error = await call().then(() => undefined, (e: unknown) => e);
    assert.equal(statusOf(error), 403, `${what} is refused with 403`);
  };
  await refused('reading another Secret', () => adapterCore.readNamespacedSecret({ namespace, name: 'payments-signing-key' }));
  await refused('listing Secrets', () => adapterCore.listNamespacedSecret({ namespace }));
  await refused('deleting the Secret it may update', () => adapterCore.deleteNamespacedSecret({ namespace, name: 'mita-db-config' }));
  await refused('the same Secret in another namespace', () => adapterCore.readNamespacedSecret({ namespace: 'elsewhere', name: 'mita-db-config' }));
  await refused('patching the Deployment (only get was granted)', () => adapterApps.patchNamespacedDeployment(
    { namespace, name: 'mita-backend', body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } } },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  ));
  await refused('scaling the Deployment', () => adapterApps.replaceNamespacedDeploymentScale({ namespace, name: 'mita-backend', body: { metadata: { name: 'mita-backend' }, spec: { replicas: 5 } } }));
});

test('without a control plane build, starting one is a PrerequisiteError that points at the bootstrap', async () => {
  const saved = process.env.DR_KUBERNETES_DIR;
  process.env.DR_KUBERNETES_DIR = path.join(cp.stateDir, 'no-build-here');
  try {
    await assert.rejects(startKubernetesControlPlane({ stateDir: path.join(cp.stateDir, 'unused') }), (error: unknown) =>
      error instanceof PrerequisiteError && /kube-apiserver/.test(error.what) && /npm run bootstrap/.test(error.fix));
  } finally {
    if (saved === undefined) delete process.env.DR_KUBERNETES_DIR;
    else process.env.DR_KUBERNETES_DIR = saved;
  }
});

test('the control plane build without Go ends with the one-line "what. Fix: how" error', () => {
  const result = spawnSync('bash', [path.resolve(__dirname, '../../scripts/build-kubernetes.sh')], {
    env: { ...process.env, DR_CACHE_DIR: path.join(cp.stateDir, 'empty-cache'), DR_GO_BIN: path.join(cp.stateDir, 'no-go') },
    encoding: 'utf8',
  });
  assert.equal(result.status, 1);
  assert.match(result.stderr.trim(), /^bootstrap: error: go is not installed; .+\. Fix: install Go >= 1\.26\.0 .+$/);
});
