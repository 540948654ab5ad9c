import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startRunbook } from '../../client/runbooks';
import { startSteadyWriter } from '../../demo/steady-writer';
import { sleep } from '../../lib/child-process';
import { applicationRole } from '../../demo/financial-dataset';
import type { WorkerConfig } from '../../worker/config';
import { approveUpdate } from '../../workflows/messages';
import { recoverFromServerFailureInput } from '../../workflows/recover-from-server-failure';
import { neverReadyAnnotation, startKubernetesControlPlane, type KubernetesControlPlane } from '../../stack/kubernetes-control-plane';
import { signInAsApplication } from '../support/app-databases';
import { appNamespace, secretText, seedNames, type AppNamespace } from '../support/kubernetes';
import { startPodsOfDeployment, type PodsOfDeployment } from '../support/kubernetes-pods';
import { gateIsOpen, runbookOutcome, startScenarioStack, waitForRunbookStatus, type ScenarioStack } from '../support/scenario-stack';
import { startInTempDir } from '../support/temp-server';

// recoverFromServerFailure with the Kubernetes app runtime on a real API server (kwok makes the pods
// ready) and the database on the embedded platform's real PostgreSQL 15 (production killed, the latest
// backup and archived WAL restored into a new instance). The worker acts as the ServiceAccount of the
// shipped Role, keeps its secrets in Kubernetes Secrets, and cuts over: the application role gets a new
// password on the recovered instance, the Deployment's Secret is replaced, the Deployment rolls, and the
// old password is refused there afterwards. A second run whose rollout never becomes ready fails with
// the Deployment's own words, and the Secret is back on the version the application held.
let s: ScenarioStack;
let cp: KubernetesControlPlane & { stateDir: string };
const strategicMerge = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const fast = { checks: 2, checkIntervalSeconds: 1, checkTimeoutSeconds: 2 } as const;

before(async () => {
  [s, cp] = await Promise.all([startScenarioStack(), startInTempDir('dr-k8s-e2e-', (stateDir) => startKubernetesControlPlane({ stateDir }))]);
  // A live application writes all the time (the validation's recency check expects it), and the WAL so
  // far reaches the archive (archive_timeout does that in production), then production dies.
  const writer = startSteadyWriter({ connectionString: s.productionUrl, ratePerSecond: 20, label: 'before-failure' });
  await sleep(1500);
  await s.production((db) => db.query('SELECT pg_switch_wal()'));
  await sleep(1000);
  await s.stack.production.stop('immediate');
  await writer.stop();
});
after(async () => {
  await Promise.all([s?.stop(), cp?.stop()]);
});

const secretFile = (name: string) => readFileSync(path.join(s.config.secretsDir!, name), 'utf8').trim();
/** The application's own connection to production, as the operators wrote it into mita-db-config. */
const productionAppUrl = () => {
  const url = new URL(secretFile('app-database-connection'));
  url.hostname = '127.0.0.1'; // the pods reach production by address (the local stack's app goes through a DNS name)
  return url.toString();
};

/** A namespace as the operators set it up, and a worker cutting over the Deployment there. */
async function kubernetesApp(namespace: string, options: { progressDeadlineSeconds?: number } = {}): Promise<{ ns: AppNamespace; pods: PodsOfDeployment; taskQueue: string; original: Record<string, string> }> {
  const ns = await appNamespace(cp, namespace, {
    secretData: { 'database-url': productionAppUrl() },
    replicas: 3,
    readyAfter: '1s',
    ...(options.progressDeadlineSeconds ? { progressDeadlineSeconds: options.progressDeadlineSeconds } : {}),
    // The passwords the worker signs in with and the audit head's signing key, where the SecretStore keeps them.
    storeSecrets: {
      'dr-runbooks-production-db-password': secretFile('production-db-password'),
      'dr-runbooks-audit-db-password': secretFile('audit-db-password'),
      'dr-runbooks-audit-head-signing-key': readFileSync(path.join(s.config.secretsDir!, 'audit-head-signing-key'), 'utf8'),
    },
  });
  const pods = await startPodsOfDeployment({ admin: cp.adminConfig(), namespace, deployment: seedNames.deployment, secret: seedNames.secret, keys: { url: 'database-url' }, dir: cp.stateDir });
  const taskQueue = await s.startWorker((config): WorkerConfig => ({
    ...config,
    kubernetes: { clusters: { 'mita-production': { kubeconfig: ns.serviceAccountKubeconfig } } },
    secretStore: { kubernetes: { cluster: 'mita-production', namespace, namePrefix: 'dr-runbooks-', keepVersions: 5 } },
    app: {
      databaseRole: applicationRole,
      connectionSecret: 'app-database-connection',
      kubernetes: { cluster: 'mita-production', namespace, deployment: seedNames.deployment, secret: seedNames.secret, secretKeys: { url: 'database-url' }, healthUrl: pods.healthUrl, rolloutTimeoutSeconds: 120 },
    },
  }));
  return { ns, pods, taskQueue, original: await secretText(ns.admin.core, namespace, seedNames.secret) };
}

async function cutOver(taskQueue: string, incidentId: string) {
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromServerFailure', scenario: 'server-failure', input: recoverFromServerFailureInput.parse({ incidentId, startedBy: 'alice', ...fast }), taskQueue });
  const waiting = await waitForRunbookStatus(s.client, handle.workflowId, (st) => gateIsOpen('cutover')(st) || st.verdict !== undefined);
  assert.equal(waiting.verdict, undefined, `waits at the cutover gate: ${waiting.verdictDetail ?? ''}`);
  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob', comment: 'restored instance validated' }] });
  return { handle, result: await runbookOutcome<{ recoveredInstance: string; application: string }>(s.client, handle.workflowId) };
}

test('the cutover rotates the Secret, rolls the Deployment (every replica updated), and the old password is refused by the recovered PostgreSQL (Kubernetes: real API server; database: real local PostgreSQL)', async () => {
  const { ns, pods, taskQueue, original } = await kubernetesApp('mita-production');
  const { namespace, admin } = ns;
  try {
    const before = await admin.apps.readNamespacedDeployment({ namespace, name: seedNames.deployment });
    const podsBefore = new Set((await admin.core.listNamespacedPod({ namespace, labelSelector: `app=${seedNames.deployment}` })).items.map((p) => p.metadata?.name));
    const { handle, result } = await cutOver(taskQueue, 'INC-K8S-1');
    assert.equal(result.verdict, 'completed', result.verdictDetail);
    const recovered = result.output!.recoveredInstance;
    const step = (name: string) => result.timeline.find((t) => t.step === name);
    assert.match(step(`rotate the application's database password on ${recovered}`)?.detail ?? '', /^new password for mita_app: app-database-connection version 2 \(the application held version 1\)$/);
    assert.match(step(`point the application at ${recovered}`)?.detail ?? '', new RegExp(`^Secret ${namespace}/mita-db-config now 127\\.0\\.0\\.1:\\d+/mita \\(app-database-connection version 2\\), was 127\\.0\\.0\\.1:\\d+/mita \\(app-database-connection version 1\\)$`));
    assert.match(step('rollout restart deployment/mita-backend')?.detail ?? '', /^stopped revision 1 \(3 replicas\), started rollout of deployment\/mita-backend, generation 2$/);
    assert.equal(step('rollout status deployment/mita-backend')?.detail, '3 of 3 updated, 3 available: deployment "mita-backend" successfully rolled out');
    assert.match(step(`revoke the application's old database password on ${recovered}`)?.detail ?? '', /^old password of mita_app refused, new one accepted, 0 older session\(s\) ended$/);

    // The Secret: the new connection, to the recovered instance, as the role, with a new password.
    const now = await secretText(admin.core, namespace, seedNames.secret);
    const connection = new URL(now['database-url']!);
    const instance = (await s.platform.connectionFor(recovered))!;
    assert.equal(Number(connection.port), instance.port);
    assert.equal(decodeURIComponent(connection.username), applicationRole);
    const oldPassword = decodeURIComponent(new URL(original['database-url']!).password);
    const newPassword = decodeURIComponent(connection.password);
    assert.notEqual(newPassword, oldPassword);
    const store = await secretText(admin.core, namespace, seedNames.connectionStore);
    assert.equal(store['version.1'], original['database-url'], 'the hand-written connection was kept as version 1');
    assert.equal(store['version.2'], now['database-url']);

    // The Deployment rolled: generation observed, every replica updated, every pod a new one with the annotation.
    const rolled = await admin.apps.readNamespacedDeployment({ namespace, name: seedNames.deployment });
    assert.ok((rolled.status?.observedGeneration ?? 0) > (before.status?.observedGeneration ?? 0), 'observedGeneration advanced');
    assert.equal(rolled.status?.updatedReplicas, 3);
    const restartedAt = rolled.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'];
    assert.ok(restartedAt, 'the restartedAt annotation is on the pod template');
    assert.equal(rolled.spec?.template.metadata?.annotations?.['mita.example/team'], 'payments', 'a merge, not a replacement of the template');
    const podsAfter = (await admin.core.listNamespacedPod({ namespace, labelSelector: `app=${seedNames.deployment}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
    assert.equal(podsAfter.length, 3);
    for (const pod of podsAfter) {
      assert.ok(!podsBefore.has(pod.metadata?.name), `${pod.metadata?.name} is a new pod`);
      assert.equal(pod.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], restartedAt);
    }

    // PostgreSQL on the recovered instance: the old password is refused, the new one accepted.
    assert.equal(await signInAsApplication(instance, oldPassword), '28P01');
    assert.equal(await signInAsApplication(instance, newPassword), 'accepted');
    // "The pods" answer from the recovered instance, signed in with the new password.
    const health = (await (await fetch(pods.healthUrl)).json()) as { database: { port: number } };
    assert.equal(health.database.port, instance.port);

    // Only version ids in history, never a password or a connection URL.
    const history = JSON.stringify(await handle.fetchHistory());
    for (const secret of [oldPassword, newPassword]) assert.ok(!history.includes(secret), 'a password is in the workflow history');
    assert.ok(!history.includes('postgresql://'), 'a connection URL is in the workflow history');
  } finally {
    await pods.stop();
  }
});

test('a rollout that never becomes ready fails the cutover with the Deployment\'s condition message, and the Secret is back on the previous version (Kubernetes: real API server; database: real local PostgreSQL)', async () => {
  const { ns, pods, taskQueue, original } = await kubernetesApp('mita-broken', { progressDeadlineSeconds: 5 });
  const { namespace, admin } = ns;
  try {
    // A bad release: its pods never pass their readiness probe.
    await admin.apps.patchNamespacedDeployment({ namespace, name: seedNames.deployment, body: { spec: { template: { metadata: { annotations: { [neverReadyAnnotation]: 'true' } } } } } }, strategicMerge);
    const { result } = await cutOver(taskQueue, 'INC-K8S-2');
    assert.equal(result.verdict, 'failed');
    assert.match(result.verdictDetail ?? '', /the cutover to [a-z0-9-]+ failed: deployment "mita-backend" exceeded its progress deadline: ReplicaSet "mita-backend-[a-z0-9]+" has timed out progressing\.; Secret mita-broken\/mita-db-config is back on app-database-connection version 1, but its rollout did not finish either: deployment "mita-backend" exceeded its progress deadline/);
    const outcome = (name: string) => result.timeline.find((t) => t.step === name)?.outcome;
    assert.equal(outcome('rollout status deployment/mita-backend'), 'failed');
    assert.equal(outcome('roll back: put Secret mita-broken/mita-db-config back to app-database-connection version 1'), 'succeeded');
    assert.equal(outcome('roll back: rollout restart deployment/mita-backend'), 'succeeded');
    assert.ok(!result.timeline.some((t) => t.step.startsWith('wait until the application is healthy') || t.step.startsWith('revoke')), 'no health wait and no revocation after a failed rollout');
    assert.equal(result.rto.cutoverVerifiedAt, undefined);

    const now = await secretText(admin.core, namespace, seedNames.secret);
    assert.equal(now['database-url'], original['database-url'], 'the Secret holds the connection it held before the cutover');
    const secret = await admin.core.readNamespacedSecret({ namespace, name: seedNames.secret });
    assert.equal(JSON.parse(secret.metadata!.annotations!['dr-runbooks.io/connection']!).secret.version, '1');
    const store = await secretText(admin.core, namespace, seedNames.connectionStore);
    assert.equal(store.value, original['database-url'], 'version 1 is current again in the SecretStore');
  } finally {
    await pods.stop();
  }
});
