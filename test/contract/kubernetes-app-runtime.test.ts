import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { createKubernetesAppRuntime, createKubernetesSecretStore } from '../../activities/adapters/kubernetes';
import { loadConfig, neverReadyAnnotation, startKubernetesControlPlane, type KubernetesControlPlane } from '../../stack/kubernetes-control-plane';
import { appDatabases } from '../support/app-databases';
import { startTestClusters } from '../support/clusters';
import { eventually } from '../support/eventually';
import { appNamespace, rolledOut, seedNames } from '../support/kubernetes';
import { startPodsOfDeployment } from '../support/kubernetes-pods';
import { startInTempDir } from '../support/temp-server';
import { appRuntimeContract, type ContractDatabase } from './app-runtime-contract';

// The AppRuntime contract on the Kubernetes runtime, against a real API server (kwok's nodes make the
// pods ready), as the ServiceAccount the shipped Role (deploy/kubernetes/rbac.yaml) is bound to: one
// namespace per case, the seeds' Deployment and Secret, the SecretStore in Secrets too. kwok runs no
// containers: the demo financial service plays the pods (started by every completed rollout, with the
// Secret's connection), so the health URL answers from the database the Secret names.
let cp: KubernetesControlPlane & { stateDir: string };
let env: Awaited<ReturnType<typeof startTestClusters>>;
const databases: Record<'a' | 'b', ContractDatabase> = {} as never;
const keys = { url: 'database-url' };
const strategicMerge = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

before(async () => {
  [cp, env] = await Promise.all([startInTempDir('dr-k8s-contract-', (stateDir) => startKubernetesControlPlane({ stateDir })), startTestClusters(['a', 'b'])]);
  Object.assign(databases, await appDatabases({ a: env.clusters.a!, b: env.clusters.b! }));
});
after(async () => {
  await Promise.all([cp?.stop(), env?.stop()]);
});

appRuntimeContract('Kubernetes runtime', async (caseName) => {
  const namespace = `contract-${caseName}`;
  const ns = await appNamespace(cp, namespace, { secretData: { 'database-url': databases.a.url }, replicas: 3 });
  const dir = path.join(cp.stateDir, 'pods');
  mkdirSync(dir, { recursive: true });
  const pods = await startPodsOfDeployment({ admin: cp.adminConfig(), namespace, deployment: seedNames.deployment, secret: seedNames.secret, keys, dir });
  const asServiceAccount = loadConfig(ns.serviceAccountKubeconfig);
  const secrets = createKubernetesSecretStore({ kubeConfig: asServiceAccount, namespace, namePrefix: 'dr-runbooks-', keepVersions: 5 });
  const runtime = createKubernetesAppRuntime({
    primary: { kubeConfig: asServiceAccount, namespace, deployment: seedNames.deployment, healthUrl: pods.healthUrl },
    secret: seedNames.secret,
    secretKeys: keys,
    cacheSecretKey: 'redis-url',
    secrets,
    rolloutTimeoutMs: 60_000,
    pollIntervalMs: 200,
  });
  await eventually('the pods to answer', 30_000, async () => (await fetch(pods.healthUrl)).ok || undefined, 200);
  const patchTemplate = (annotations: Record<string, string | null>, progressDeadlineSeconds: number) => ns.admin.apps.patchNamespacedDeployment(
    { namespace, name: seedNames.deployment, body: { spec: { progressDeadlineSeconds, template: { metadata: { annotations } } } } },
    strategicMerge,
  );
  return {
    runtime,
    secrets,
    connectionSecret: 'app-database-connection',
    cacheSecret: 'app-cache-connection',
    databases,
    maxReplicas: 10,
    failedRolloutSays: /^deployment "mita-backend" exceeded its progress deadline: ReplicaSet "mita-backend-[a-z0-9]+" has timed out progressing\.$/,
    // A template whose pods never pass their readiness probe (kwok's never-ready stage), with a short deadline.
    async breakRollouts() {
      await patchTemplate({ [neverReadyAnnotation]: 'true' }, 3);
    },
    async repairRollouts() {
      await patchTemplate({ [neverReadyAnnotation]: null }, 600);
      await eventually('the repaired rollout', 60_000, () => rolledOut(ns.admin.apps, namespace, seedNames.deployment), 200);
    },
    async runningReplicas() {
      const deployment = await ns.admin.apps.readNamespacedDeployment({ namespace, name: seedNames.deployment });
      return deployment.status?.availableReplicas ?? 0;
    },
    async cleanup() {
      await pods.stop();
    },
  };
});
