import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { duration } from '../contracts/durations';
import { kubernetesAppConfig, kubernetesConfig, kubernetesSecretStoreConfig, unknownKubernetesClusters } from './kubernetes-config';

const databaseConfig = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  database: z.string().min(1),
  user: z.string().min(1),
  /** Name of the secret holding the password: resolved by the worker, never written anywhere. */
  passwordSecret: z.string().min(1),
});


const escalationTier = z.strictObject({
  after: duration.describe('time after the gate opened'),
  notify: z.string().min(1).describe('the audience notified at this tier'),
});

const gateConfig = z.strictObject({
  approvers: z.array(z.string().trim().min(1)).min(1),
  quorum: z.number().int().min(1).optional(),
  /** Default: on for gates whose name starts with "cutover". */
  twoPersonRule: z.boolean().optional(),
  escalation: z.array(escalationTier).optional(),
  deadline: duration.optional(),
});

// From seed 001's escalation matrix, while a gate waits: the technical team at 15 min, management at
// 30 min, executives at 1 h. A gate nobody decides fails closed at the deadline.
const approvalsConfig = z.strictObject({
  escalation: z.array(escalationTier).default([
    { after: '15 minutes', notify: 'technical-team' },
    { after: '30 minutes', notify: 'management' },
    { after: '60 minutes', notify: 'executives' },
  ]),
  deadline: duration.default('2 hours'),
  gates: z.record(z.string(), gateConfig).default({}),
  /** Per-scenario gates, merged over `gates`. */
  scenarios: z.record(z.string(), z.strictObject({ gates: z.record(z.string(), gateConfig).default({}) })).default({}),
  /**
   * Gates in drill mode: a drill touches no production, so by default the drill policy approves its
   * gates itself (recorded as "drill-policy"); with autoApprove off, the gate's listed approvers decide,
   * which rehearses the people as well as the machinery.
   */
  drill: z.strictObject({ autoApprove: z.boolean().default(true) }).prefault({}),
});

const objective = z.strictObject({ rto: duration, rpo: duration });
const objectivesConfig = z.strictObject({
  // The seed's plan: RTO 1 hour, RPO 15 minutes.
  default: objective.default({ rto: '1 hour', rpo: '15 minutes' }),
  scenarios: z.record(z.string(), objective.partial()).default({}),
});

const notifierConfig = z.discriminatedUnion('type', [z.strictObject({ type: z.literal('console') })]);

/** The embedded default platform: PostgreSQL clusters under a state directory, backups by pgBackRest. */
const localPlatformConfig = z.strictObject({
  /** The platform's directory (instance registry, clusters, pgBackRest files), relative to the config file. */
  stateDir: z.string().min(1),
  /** pgBackRest stanza of the enrolled production cluster. */
  stanza: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').default('production'),
  /** pgBackRest directory repository (repo1-path); <stateDir>/pgbackrest/repo when omitted. */
  repoPath: z.string().min(1).optional(),
  /** Parallel pgBackRest processes for backups and restores. */
  processMax: z.number().int().min(1).max(32).default(2),
  /** Longest a restore may replay WAL before it is given up. */
  recoveryTimeoutSeconds: z.number().int().positive().default(1800),
});

/** Fields of the local runtime (the demo financial service as one process); the Kubernetes runtime uses none of them. */
const localAppFields = ['envFile', 'port', 'healthUrl', 'command', 'workingDirectory', 'pidFile', 'logFile'] as const;

/**
 * The application the runbooks cut over: the local runtime (the demo financial service, one process,
 * paths relative to the config file) or, with `kubernetes`, a Deployment and its Secret.
 */
const appConfig = z.strictObject({
  /** Env file holding the app's DATABASE_URL (written by pointAppAtDatabase); required by the local runtime. */
  envFile: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  /** Defaults to http://127.0.0.1:<port>/health/database. */
  healthUrl: z.string().url().optional(),
  /** The service command without its flags (the local stack names the demo financial service); required by the local runtime. */
  command: z.array(z.string().min(1)).min(1).optional(),
  /** Where the service runs, relative to the config file; default: the env file's directory. */
  workingDirectory: z.string().min(1).optional(),
  /** The secret (by name) the runbooks write the application's database connection to; default app-database-connection. */
  connectionSecret: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "letters, digits, '.', '_' and '-'").optional(),
  /**
   * The PostgreSQL role the application signs in as. Every cutover gives it a new password on the
   * instance the application moves to (through the worker's admin connection), and revokes the old one.
   */
  databaseRole: z.string().regex(/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/, "must be a PostgreSQL role name: letters, digits, '_', '$' and '-', at most 63, starting with a letter or '_'").optional(),
  pidFile: z.string().optional(),
  logFile: z.string().optional(),
  /** The application on Kubernetes (its Deployment and Secret) instead of the local process. */
  kubernetes: kubernetesAppConfig.optional(),
}).superRefine((app, ctx) => {
  // Asked here, not at the cutover: a missing role would otherwise stop a runbook after its approval.
  if (app.databaseRole === undefined) ctx.addIssue({ code: 'custom', path: ['databaseRole'], message: 'is required: the PostgreSQL role the application signs in as (every cutover gives it a new password on the database it moves to), e.g. mita_app' });
  if (app.kubernetes) {
    for (const field of localAppFields.filter((f) => app[f] !== undefined)) {
      ctx.addIssue({ code: 'custom', path: [field], message: `belongs to the local runtime, not app.kubernetes (the Kubernetes runtime reads its health URL from app.kubernetes.healthUrl and keeps the connection in the Secret app.kubernetes.secret): remove it` });
    }
    return;
  }
  if (app.envFile === undefined) ctx.addIssue({ code: 'custom', path: ['envFile'], message: "is required by the local runtime (the file holding the application's DATABASE_URL), unless app.kubernetes names a Deployment" });
  if (app.port === undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: 'is required by the local runtime (the port the application listens on), unless app.kubernetes names a Deployment' });
});

/** Which SecretStore the worker wires; without one, the secrets directory (secretsDir) and DR_SECRET_<NAME>. */
const secretStoreConfig = z.strictObject({
  kubernetes: kubernetesSecretStoreConfig.optional(),
});

const dnsConfig = z.strictObject({
  /** JSON mapping file (name → host:port, TTL, history) the demo service resolves through. */
  mappingFile: z.string().min(1),
  defaultTtlSeconds: z.number().int().min(0).max(86_400).default(30),
});

export const workerConfigSchema = z.strictObject({
  environment: z.string().min(1).default('local'),
  /** Directory of secret files (one file per secret name), relative to the config file. */
  secretsDir: z.string().optional(),
  databases: z.record(z.string(), databaseConfig),
  app: appConfig.optional(),
  /** Where reports, baselines and diffs are kept (local adapter: a directory, relative to the config file). */
  objectStore: z.strictObject({ directory: z.string().min(1) }).optional(),
  dns: dnsConfig.optional(),
  /** The application's migrations (local adapter: a directory of <version>_<name>.up/down.sql, relative to the config file). */
  migrations: z.strictObject({ directory: z.string().min(1) }).optional(),
  /** Which configured database holds dr_audit_log; the audit activities are registered only when set. */
  audit: z.strictObject({ database: z.string().min(1) }).optional(),
  approvals: approvalsConfig.prefault({}),
  objectives: objectivesConfig.prefault({}),
  notifiers: z.array(notifierConfig).default([{ type: 'console' }]),
  /** Which DatabasePlatform adapter the worker wires; none configured means platform activities refuse. */
  platform: z.strictObject({ local: localPlatformConfig.optional() }).optional(),
  /** Where secrets are kept when not in secretsDir (database passwords, the application's connection). */
  secretStore: secretStoreConfig.optional(),
  /** The Kubernetes clusters the worker reaches (app.kubernetes and secretStore.kubernetes name one). */
  kubernetes: kubernetesConfig.optional(),
}).superRefine((config, ctx) => {
  for (const { path: field, message } of unknownKubernetesClusters(config)) ctx.addIssue({ code: 'custom', path: field, message });
});
export type WorkerConfig = z.infer<typeof workerConfigSchema>;
export type ApprovalsConfig = z.infer<typeof approvalsConfig>;
export type GateConfig = z.infer<typeof gateConfig>;
export type ObjectivesConfig = z.infer<typeof objectivesConfig>;
export type NotifierConfig = z.infer<typeof notifierConfig>;
export type DatabaseConfig = z.infer<typeof databaseConfig>;
export type AppConfig = z.infer<typeof appConfig>;
export type DnsConfig = z.infer<typeof dnsConfig>;
export type LocalPlatformConfig = z.infer<typeof localPlatformConfig>;
export type SecretStoreConfig = z.infer<typeof secretStoreConfig>;
export type { AppSecretKeys, KubernetesAppConfig, KubernetesClusterConfig, KubernetesConfig, KubernetesSecretStoreConfig } from './kubernetes-config';

/** Loads the environment file (YAML or JSON); a bad file stops the worker with every wrong field named. */
export function loadWorkerConfig(file: string): WorkerConfig {
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read config ${file}: ${(error as Error).message}`);
  }
  const parsed = workerConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`config ${file} is invalid: ${problems}`);
  }
  const config = parsed.data;
  if (config.audit && !config.databases[config.audit.database]) {
    throw new Error(`config ${file} is invalid: audit.database: "${config.audit.database}" is not in databases (known: ${Object.keys(config.databases).join(', ') || 'none'})`);
  }
  if (config.secretsDir) config.secretsDir = path.resolve(path.dirname(file), config.secretsDir);
  const fromConfigDir = (p: string) => path.resolve(path.dirname(file), p);
  if (config.app) {
    if (config.app.envFile) config.app.envFile = fromConfigDir(config.app.envFile);
    if (config.app.pidFile) config.app.pidFile = fromConfigDir(config.app.pidFile);
    if (config.app.logFile) config.app.logFile = fromConfigDir(config.app.logFile);
    if (config.app.workingDirectory) config.app.workingDirectory = fromConfigDir(config.app.workingDirectory);
  }
  if (config.dns) config.dns.mappingFile = fromConfigDir(config.dns.mappingFile);
  for (const cluster of Object.values(config.kubernetes?.clusters ?? {})) {
    if (cluster.kubeconfig) cluster.kubeconfig = fromConfigDir(cluster.kubeconfig.replace(/^~(?=\/)/, process.env.HOME ?? '~'));
  }
  if (config.objectStore) config.objectStore.directory = fromConfigDir(config.objectStore.directory);
  if (config.migrations) config.migrations.directory = fromConfigDir(config.migrations.directory);
  const local = config.platform?.local;
  if (local) {
    local.stateDir = path.resolve(path.dirname(file), local.stateDir);
    if (local.repoPath) local.repoPath = path.resolve(path.dirname(file), local.repoPath);
  }
  return config;
}

/** Temporal connection settings, from the environment the way the Temporal samples read them. */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env) {
  return {
    address: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.DR_TASK_QUEUE ?? 'dr-runbooks',
  };
}
