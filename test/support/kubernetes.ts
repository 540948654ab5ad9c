import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppsV1Api, CoreV1Api, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject, type V1Deployment } from '@kubernetes/client-node';
import YAML from 'yaml';
import { rolloutOf } from '../../activities/adapters/kubernetes/rollout-status';
import { repoRoot } from '../../stack/paths';
import { loadConfig, type KubernetesControlPlane } from '../../stack/kubernetes-control-plane';
import { eventually } from './eventually';

// What the Kubernetes tests share: the project's own manifests applied as `kubectl apply --server-side`
// would, the seeds' Deployment and Secret, and kubectl's "successfully rolled out".

export const manifestsDir = path.join(repoRoot, 'deploy', 'kubernetes');
/** The seeds' names, as the manifests and config use them. */
export const seedNames = { deployment: 'mita-backend', secret: 'mita-db-config', serviceAccount: 'dr-runbooks', connectionStore: 'dr-runbooks-app-database-connection' } as const;

/** The objects of a manifest file, moved into `namespace` (RoleBinding subjects too). */
export function manifestObjects(file: string, namespace: string): KubernetesObject[] {
  const documents = YAML.parseAllDocuments(readFileSync(path.join(manifestsDir, file), 'utf8')).map((d) => d.toJSON() as KubernetesObject | null).filter((o): o is KubernetesObject => o !== null);
  return documents.map((object) => {
    const moved = { ...object, metadata: { ...object.metadata, namespace } } as KubernetesObject & { subjects?: Array<{ kind: string; namespace?: string }> };
    if (moved.subjects) moved.subjects = moved.subjects.map((s) => (s.kind === 'ServiceAccount' ? { ...s, namespace } : s));
    return moved;
  });
}

/** Server-side apply of the manifest files into the namespace, as the administrator. */
export async function applyManifests(kc: KubeConfig, namespace: string, ...files: string[]): Promise<KubernetesObject[]> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const applied: KubernetesObject[] = [];
  for (const object of files.flatMap((file) => manifestObjects(file, namespace))) {
    applied.push(await api.patch(object, undefined, undefined, 'dr-runbooks-tests', true, PatchStrategy.ServerSideApply));
  }
  return applied;
}

export function deploymentManifest(name: string, options: { replicas?: number; annotations?: Record<string, string>; progressDeadlineSeconds?: number } = {}): V1Deployment {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: options.replicas ?? 3,
      progressDeadlineSeconds: options.progressDeadlineSeconds,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: { 'mita.example/team': 'payments', ...options.annotations } },
        spec: { containers: [{ name: 'app', image: 'registry.invalid/mita-backend:1.0.0' }] },
      },
    },
  };
}

/** kubectl rollout status's rule for "successfully rolled out": the Deployment when it is, else undefined. */
export async function rolledOut(apps: AppsV1Api, namespace: string, name: string): Promise<V1Deployment | undefined> {
  const deployment = await apps.readNamespacedDeployment({ name, namespace });
  return rolloutOf(deployment).state === 'done' ? deployment : undefined;
}

export interface AppNamespace {
  namespace: string;
  /** A kubeconfig acting as the ServiceAccount the shipped Role is bound to. */
  serviceAccountKubeconfig: string;
  admin: { core: CoreV1Api; apps: AppsV1Api };
}

/**
 * A namespace as an operator sets it up for the seeds' application: the shipped RBAC manifest and the
 * SecretStore's empty Secret, the application's Secret (written by hand) and its Deployment, rolled out.
 */
export async function appNamespace(cp: KubernetesControlPlane, namespace: string, options: { secretData: Record<string, string>; replicas?: number; readyAfter?: string; progressDeadlineSeconds?: number; storeSecrets?: Record<string, string> }): Promise<AppNamespace> {
  await cp.createNamespace(namespace);
  const kc = cp.adminConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  await applyManifests(kc, namespace, 'rbac.yaml', 'secret-store.yaml');
  await core.createNamespacedSecret({ namespace, body: { metadata: { name: seedNames.secret }, stringData: options.secretData } });
  for (const [name, value] of Object.entries(options.storeSecrets ?? {})) await core.createNamespacedSecret({ namespace, body: { metadata: { name }, stringData: { value } } });
  await apps.createNamespacedDeployment({ namespace, body: deploymentManifest(seedNames.deployment, { replicas: options.replicas ?? 3, progressDeadlineSeconds: options.progressDeadlineSeconds, annotations: options.readyAfter ? { 'dr-runbooks.test/ready-after': options.readyAfter } : {} }) });
  await eventually(`${seedNames.deployment} in ${namespace} to roll out`, 60_000, () => rolledOut(apps, namespace, seedNames.deployment), 200);
  const serviceAccountKubeconfig = await cp.serviceAccountKubeconfig(namespace, seedNames.serviceAccount);
  // RBAC reads Roles from an informer: the grant is visible a moment after it is created.
  await eventually('the Role to take effect', 10_000, () => loadConfig(serviceAccountKubeconfig).makeApiClient(CoreV1Api).readNamespacedSecret({ namespace, name: seedNames.secret }));
  return { namespace, serviceAccountKubeconfig, admin: { core, apps } };
}

/** A Secret's data as text. */
export async function secretText(core: CoreV1Api, namespace: string, name: string): Promise<Record<string, string>> {
  const secret = await core.readNamespacedSecret({ namespace, name });
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/** A kubeconfig for a cluster in a dark region: its API server does not answer (nothing listens on port 1). */
export function unreachableClusterKubeconfig(dir: string, cluster: string): string {
  const file = path.join(dir, `${cluster}-unreachable.kubeconfig`);
  writeFileSync(file, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': cluster,
    clusters: [{ name: cluster, cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'dr-runbooks', user: { token: 'the-region-is-dark' } }],
    contexts: [{ name: cluster, context: { cluster, user: 'dr-runbooks' } }],
  }));
  return file;
}
