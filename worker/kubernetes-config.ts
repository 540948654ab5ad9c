import { z } from 'zod';

// The Kubernetes family's config keys: the clusters the worker reaches, the application's Deployment and
// Secret on one of them (app.kubernetes), and a SecretStore kept in Secrets (secretStore.kubernetes).

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Kubernetes name (DNS label): lowercase letters, digits and -, at most 63, starting and ending with a letter or digit');
const dnsSubdomain = z.string().max(253, 'must be at most 253 characters').regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "must be a Kubernetes object name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit");
const secretDataKey = z.string().regex(/^[-._a-zA-Z0-9]{1,253}$/, "must be a Secret key: letters, digits, '-', '_' and '.'");
const clusterName = z.string().min(1, 'must name a cluster of kubernetes.clusters');

/**
 * How the worker signs in to one cluster: a kubeconfig file (and a context in it, the seed's
 * `arn:aws:eks:us-west-2:ACCOUNT:cluster/mita-dr`), or the pod's own ServiceAccount when the worker runs
 * in that cluster.
 */
export const kubernetesClusterConfig = z.strictObject({
  /** A kubeconfig file, relative to the config file. */
  kubeconfig: z.string().min(1).optional(),
  /** The context to use in it; default: its current-context. */
  context: z.string().min(1).optional(),
  /** The worker's own ServiceAccount (token and CA mounted in the pod, the API server from the environment). */
  inCluster: z.boolean().optional(),
}).superRefine((c, ctx) => {
  if (c.inCluster && (c.kubeconfig || c.context)) {
    ctx.addIssue({ code: 'custom', path: ['inCluster'], message: "signs in with the pod's ServiceAccount: remove kubeconfig and context, or inCluster" });
  } else if (!c.inCluster && !c.kubeconfig) {
    ctx.addIssue({ code: 'custom', path: ['kubeconfig'], message: "is required: a kubeconfig file (with context), or inCluster: true for the worker's own ServiceAccount" });
  }
});

/**
 * The keys of the application's Secret the runbooks write: the seed's one `database-url`, or the parts
 * an application reads separately (all five), or both.
 */
export const appSecretKeys = z.strictObject({
  url: secretDataKey.optional(),
  host: secretDataKey.optional(),
  port: secretDataKey.optional(),
  database: secretDataKey.optional(),
  user: secretDataKey.optional(),
  password: secretDataKey.optional(),
}).superRefine((keys, ctx) => {
  const parts = (['host', 'port', 'database', 'user', 'password'] as const);
  const given = parts.filter((p) => keys[p] !== undefined);
  if (given.length > 0 && given.length < parts.length) {
    for (const missing of parts.filter((p) => keys[p] === undefined)) ctx.addIssue({ code: 'custom', path: [missing], message: `is required with ${given.join(', ')}: the application reads its connection from all five parts (host, port, database, user, password), or from url` });
  }
  if (keys.url === undefined && given.length === 0) ctx.addIssue({ code: 'custom', path: ['url'], message: 'is required: the Secret key that holds the connection URL (e.g. database-url), or host, port, database, user and password' });
});
export type AppSecretKeys = z.infer<typeof appSecretKeys>;

/** The DR region's copy of the application, scaled up from 0 by the region-outage runbook. */
const standbyDeployment = z.strictObject({
  cluster: clusterName,
  /** Default: the primary's namespace. */
  namespace: dnsLabel.optional(),
  /** Default: the primary's Deployment name. */
  deployment: dnsSubdomain.optional(),
  healthUrl: z.string().url().optional(),
});

/** The application on Kubernetes: its Deployment, the Secret its pods read the database from, its health URL. */
export const kubernetesAppConfig = z.strictObject({
  cluster: clusterName,
  namespace: dnsLabel,
  deployment: dnsSubdomain,
  /** The application's Secret (the seed's mita-db-config): replaced with the connection the runbook points it at. */
  secret: dnsSubdomain,
  secretKeys: appSecretKeys.default({ url: 'database-url' }),
  /** The key of that Secret holding the application's Redis URL (seed 002's cache), e.g. redis-url; needed to cut a cache over. */
  cacheSecretKey: secretDataKey.optional(),
  /** Where the worker can reach the application's health endpoint; without it, health is the Deployment's available replicas. */
  healthUrl: z.string().url().optional(),
  /** Longest a rollout may take before the runbook gives up on it (the Deployment's progressDeadlineSeconds ends it sooner). */
  rolloutTimeoutSeconds: z.number().int().min(10, 'must be at least 10 seconds').max(86_400, 'must be at most 86400 seconds (a day)').default(600),
  standby: standbyDeployment.optional(),
}).superRefine((app, ctx) => {
  const taken = Object.entries(app.secretKeys).find(([, key]) => key === app.cacheSecretKey);
  if (taken) ctx.addIssue({ code: 'custom', path: ['cacheSecretKey'], message: `"${app.cacheSecretKey}" is already secretKeys.${taken[0]}: the Redis URL needs a key of its own (e.g. redis-url)` });
});
export type KubernetesAppConfig = z.infer<typeof kubernetesAppConfig>;

/**
 * A SecretStore kept in Kubernetes Secrets: one Secret per secret name (`<namePrefix><name>`) in the
 * namespace, holding its current value and its last versions (see the adapter for why one Secret per name).
 */
export const kubernetesSecretStoreConfig = z.strictObject({
  cluster: clusterName,
  namespace: dnsLabel,
  namePrefix: z.string().regex(/^([a-z0-9]([-a-z0-9.]*[-a-z0-9.])?)?$/, "must be the start of a Kubernetes name: lowercase letters, digits, '-' and '.'").max(200).default('dr-runbooks-'),
  /** Versions kept besides the current one (older ones are removed from the Secret). */
  keepVersions: z.number().int().min(1, 'must be at least 1 (the previous version, for a rollback)').max(50, 'must be at most 50').default(5),
});
export type KubernetesSecretStoreConfig = z.infer<typeof kubernetesSecretStoreConfig>;

export const kubernetesConfig = z.strictObject({
  /** Every cluster the worker reaches, by a name of the config's own (e.g. mita-production, mita-dr). */
  clusters: z.record(z.string().min(1), kubernetesClusterConfig),
});
export type KubernetesConfig = z.infer<typeof kubernetesConfig>;
export type KubernetesClusterConfig = z.infer<typeof kubernetesClusterConfig>;

/** Every `cluster:` a Kubernetes key names must be one of kubernetes.clusters: the problems, by field path. */
export function unknownKubernetesClusters(config: { kubernetes?: KubernetesConfig; app?: { kubernetes?: KubernetesAppConfig }; secretStore?: { kubernetes?: KubernetesSecretStoreConfig } }): Array<{ path: string[]; message: string }> {
  const known = Object.keys(config.kubernetes?.clusters ?? {});
  const named: Array<[string, string | undefined]> = [
    ['app.kubernetes.cluster', config.app?.kubernetes?.cluster],
    ['app.kubernetes.standby.cluster', config.app?.kubernetes?.standby?.cluster],
    ['secretStore.kubernetes.cluster', config.secretStore?.kubernetes?.cluster],
  ];
  return named
    .filter(([, cluster]) => cluster !== undefined && !known.includes(cluster))
    .map(([field, cluster]) => ({ path: field.split('.'), message: `"${cluster}" is not in kubernetes.clusters (known: ${known.join(', ') || 'none'})` }));
}
