import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createKubernetesAppRuntime } from '../../activities/adapters/kubernetes';
import { notConfigured } from '../../activities/ports/not-configured';
import type { SecretStore } from '../../activities/ports/secret-store';
import { loadConfig, startKubernetesControlPlane, type KubernetesControlPlane } from '../../stack/kubernetes-control-plane';
import { appNamespace, seedNames, unreachableClusterKubeconfig, type AppNamespace } from '../support/kubernetes';
import { startInTempDir } from '../support/temp-server';

// The region outage's standby on a real API server: the primary's cluster is in the dark region (its API
// server does not answer), the standby Deployment is in the DR cluster at 0 replicas, reached as the
// shipped Role's ServiceAccount. Scaling and the standby's health check go to the DR cluster only.
let cp: KubernetesControlPlane & { stateDir: string };
let dr: AppNamespace;
let darkKubeconfig: string;
const standbyUrl = 'postgresql://mita_app:not-a-real-password@mita-production-dr-replica.c1.us-west-2.rds.amazonaws.com:5432/mita';

before(async () => {
  cp = await startInTempDir('dr-k8s-standby-', (stateDir) => startKubernetesControlPlane({ stateDir }));
  dr = await appNamespace(cp, 'mita-dr', { secretData: { 'database-url': standbyUrl }, replicas: 0, readyAfter: '1s' });
  darkKubeconfig = unreachableClusterKubeconfig(cp.stateDir, 'mita-production');
});
after(async () => {
  await cp?.stop();
});

const runtimeOf = () => createKubernetesAppRuntime({
  primary: { kubeConfig: loadConfig(darkKubeconfig), namespace: 'mita-production', deployment: seedNames.deployment },
  standby: { kubeConfig: loadConfig(dr.serviceAccountKubeconfig), namespace: dr.namespace, deployment: seedNames.deployment },
  secret: seedNames.secret,
  secretKeys: { url: 'database-url' },
  secrets: notConfigured<SecretStore>('secrets (not needed to scale or check health)', 'none'),
  rolloutTimeoutMs: 60_000,
  pollIntervalMs: 200,
});

test('Kubernetes runtime (real API server): with the primary\'s cluster unreachable, the standby in the DR cluster is scaled from 0 and answers the standby health check from the database its own Secret names', async () => {
  const runtime = runtimeOf();
  assert.deepEqual(await runtime.scale(2), { replicas: 2 });
  const deployment = await dr.admin.apps.readNamespacedDeployment({ namespace: dr.namespace, name: seedNames.deployment });
  assert.equal(deployment.spec?.replicas, 2);
  assert.equal(deployment.status?.readyReplicas, 2);

  const health = await runtime.waitHealthy({ standby: true, expect: { address: 'mita-production-dr-replica.c1.us-west-2.rds.amazonaws.com:5432', database: 'mita' }, timeoutMs: 20_000, intervalMs: 200 });
  assert.equal(health.database.address, 'mita-production-dr-replica.c1.us-west-2.rds.amazonaws.com:5432');
  assert.deepEqual(health.checks.map((c) => [c.name, c.passed, c.detail]), [['deployment/mita-backend available', true, '2 of 2 available']]);
});

test('Kubernetes runtime (real API server): the primary\'s health check still asks the primary\'s cluster, and says it does not answer', async () => {
  await assert.rejects(runtimeOf().waitHealthy({ timeoutMs: 1500, intervalMs: 200 }), /deployment\/mita-backend did not answer healthy within 2 s; last answer: no answer from deployment\/mita-backend: reading deployment\/mita-backend in namespace mita-production: .*ECONNREFUSED 127\.0\.0\.1:1/);
});
