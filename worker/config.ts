import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { duration } from '../contracts/durations';
import { scenarioNames } from '../workflows/scenarios';
import { awsConfig, awsConfigProblems, rdsPlatformConfig, route53DnsConfig, s3ObjectStoreConfig, secretsManagerConfig } from './aws-config';
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

// Notification channels. Every credential is a secret's name (a Slack webhook URL is a credential too).
const channelName = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, _ and - only').describe('the channel\'s name in `audiences` and in errors; default its type');
const secretName = z.string().trim().min(1, 'the name of a secret (resolved by the worker: DR_SECRET_<NAME> or a file in secretsDir)');
const channelCommon = {
  name: channelName.optional(),
  /** Hears only the escalations the audiences map routes to it. */
  escalationsOnly: z.boolean().optional(),
};
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const pagerDutySeverity = z.enum(['critical', 'error', 'warning', 'info']);
const scenarioName = z.enum(scenarioNames, { error: `must be a scenario: ${scenarioNames.join(', ')}` });
const notifierConfig = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('console'), ...channelCommon }),
  z.strictObject({
    type: z.literal('slack'),
    ...channelCommon,
    webhookUrlSecret: secretName,
    /** e.g. "#incidents"; shown in errors, and the target of legacy webhooks. */
    channel: z.string().regex(/^[#@]?[a-z0-9._-]+$/i, 'a channel such as "#incidents"').optional(),
  }),
  z.strictObject({
    type: z.literal('pagerduty'),
    ...channelCommon,
    routingKeySecret: secretName,
    eventsUrl: httpUrl.optional(),
    source: z.string().min(1).optional(),
    component: z.string().min(1).optional(),
    /** Page for drills too (severity info); default off. */
    drills: z.boolean().default(false),
    severity: z.partialRecord(scenarioName, pagerDutySeverity).optional(),
  }),
  z.strictObject({
    type: z.literal('statuspage'),
    ...channelCommon,
    pageId: z.string().regex(/^[a-z0-9]+$/i, 'a Statuspage page id (letters and digits)'),
    apiKeySecret: secretName,
    apiUrl: httpUrl.optional(),
    /** Only these scenarios' incidents are posted; drills never are. */
    customerFacingScenarios: z.array(scenarioName).min(1, 'name the scenarios customers see (e.g. server-failure, region-outage)'),
    components: z.array(z.string().regex(/^[a-z0-9]+$/i, 'a Statuspage component id')).optional(),
    deliverNotifications: z.boolean().default(true),
  }),
  z.strictObject({ type: z.literal('webhook'), ...channelCommon, url: httpUrl, signingSecret: secretName }),
], { error: (issue) => (issue.code === 'invalid_union' ? 'must be one of console, slack, pagerduty, statuspage, webhook' : undefined) });

/** The name a configured channel goes by. */
export const channelNameOf = (notifier: { type: string; name?: string }) => notifier.name ?? notifier.type;

type ChannelsToCheck = {
  notifiers: Array<{ type: string; name?: string; escalationsOnly?: boolean }>;
  audiences?: Record<string, string[]>;
  approvals: { escalation: Array<{ notify: string }>; gates: Record<string, { escalation?: Array<{ notify: string }> }>; scenarios: Record<string, { gates: Record<string, { escalation?: Array<{ notify: string }> }> }> };
};

/** Channel names are unique, the audiences map names real channels, and every escalation audience has one. */
function checkNotificationChannels(config: ChannelsToCheck, ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  config.notifiers.forEach((n, i) => {
    const name = channelNameOf(n);
    const first = seen.get(name);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['notifiers', i, 'name'], message: `two notifiers are called "${name}" (notifiers.${first} too): give each its own name` });
    else seen.set(name, i);
  });
  if (!config.audiences) return;
  const mapped = new Set<string>();
  for (const [audience, channels] of Object.entries(config.audiences)) {
    channels.forEach((channel, i) => {
      mapped.add(channel);
      if (!seen.has(channel)) ctx.addIssue({ code: 'custom', path: ['audiences', audience, i], message: `no notifier is called "${channel}" (known: ${[...seen.keys()].join(', ')})` });
    });
  }
  const tiers: Array<[string, Array<{ notify: string }> | undefined]> = [
    ['approvals.escalation', config.approvals.escalation],
    ...Object.entries(config.approvals.gates).map(([gate, g]): [string, Array<{ notify: string }> | undefined] => [`approvals.gates.${gate}.escalation`, g.escalation]),
    ...Object.entries(config.approvals.scenarios).flatMap(([scenario, sc]) => Object.entries(sc.gates).map(([gate, g]): [string, Array<{ notify: string }> | undefined] => [`approvals.scenarios.${scenario}.gates.${gate}.escalation`, g.escalation])),
  ];
  for (const [where, list] of tiers) {
    for (const tier of list ?? []) {
      if (!(tier.notify in config.audiences)) ctx.addIssue({ code: 'custom', path: ['audiences'], message: `${where} notifies "${tier.notify}", which has no channels here: add audiences.${tier.notify}: [<channel>, …]` });
    }
  }
  config.notifiers.forEach((n, i) => {
    if (n.escalationsOnly && !mapped.has(channelNameOf(n))) ctx.addIssue({ code: 'custom', path: ['notifiers', i, 'escalationsOnly'], message: `"${channelNameOf(n)}" hears only escalations but no audience lists it, so it would hear nothing` });
  });
}

/** What every incident message says about the application. */
const messagesConfig = z.strictObject({
  /** "MITA" → "[CRITICAL] MITA Database Incident - Response In Progress". */
  application: z.string().trim().min(1).optional(),
  /** The Temporal Web UI's base URL, for a link to the run in every message. */
  webUiUrl: httpUrl.optional(),
});

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
  secretsManager: secretsManagerConfig.optional(),
}).superRefine((store, ctx) => oneOf(ctx, store, ['kubernetes', 'secretsManager'], 'secret store', false));

/** A port's section names one adapter: the keys given must be exactly one of `keys` (or none when allowed). */
function oneOf(ctx: z.RefinementCtx, section: object, keys: string[], port: string, required = true): void {
  const given = keys.filter((k) => (section as Record<string, unknown>)[k] !== undefined);
  if (given.length > 1) ctx.addIssue({ code: 'custom', path: [given[1]!], message: `names a second ${port} beside ${given[0]}: give one of ${keys.join(', ')}` });
  else if (given.length === 0 && required) ctx.addIssue({ code: 'custom', path: [keys[0]!], message: `is required: the ${port} is one of ${keys.join(', ')}` });
}

const dnsConfig = z.strictObject({
  /** JSON mapping file (name → host:port, TTL, history) the demo service resolves through (the local adapter). */
  mappingFile: z.string().min(1).optional(),
  /** Route 53: the hosted zone of the application's database name. */
  route53: route53DnsConfig.optional(),
  defaultTtlSeconds: z.number().int().min(0).max(86_400).default(30),
}).superRefine((dns, ctx) => oneOf(ctx, dns, ['mappingFile', 'route53'], 'DNS'));

/** Where reports, baselines and diffs are kept: a directory (relative to the config file) or an S3 bucket. */
const objectStoreConfig = z.strictObject({
  directory: z.string().min(1).optional(),
  s3: s3ObjectStoreConfig.optional(),
}).superRefine((store, ctx) => oneOf(ctx, store, ['directory', 's3'], 'object store'));

/** Which DatabasePlatform adapter the worker wires. */
const platformConfig = z.strictObject({
  local: localPlatformConfig.optional(),
  rds: rdsPlatformConfig.optional(),
}).superRefine((platform, ctx) => oneOf(ctx, platform, ['local', 'rds'], 'database platform', false));

export const workerConfigSchema = z.strictObject({
  environment: z.string().min(1).default('local'),
  /** Directory of secret files (one file per secret name), relative to the config file. */
  secretsDir: z.string().optional(),
  databases: z.record(z.string(), databaseConfig),
  app: appConfig.optional(),
  /** Where reports, baselines and diffs are kept (a directory, relative to the config file, or S3). */
  objectStore: objectStoreConfig.optional(),
  dns: dnsConfig.optional(),
  /** The application's migrations (local adapter: a directory of <version>_<name>.up/down.sql, relative to the config file). */
  migrations: z.strictObject({ directory: z.string().min(1) }).optional(),
  /** Which configured database holds dr_audit_log; the audit activities are registered only when set. */
  audit: z.strictObject({ database: z.string().min(1) }).optional(),
  approvals: approvalsConfig.prefault({}),
  objectives: objectivesConfig.prefault({}),
  notifiers: z.array(notifierConfig).default([{ type: 'console' }]),
  /** Escalation audiences (approvals.escalation's `notify`) → the channels that hear them. */
  audiences: z.record(z.string().min(1), z.array(channelName).min(1, 'list at least one channel')).optional(),
  messages: messagesConfig.prefault({}),
  /** Which DatabasePlatform adapter the worker wires; none configured means platform activities refuse. */
  platform: platformConfig.optional(),
  /** How the worker reaches AWS, for platform.rds, objectStore.s3, dns.route53 and secretStore.secretsManager. */
  aws: awsConfig.optional(),
  /** Where secrets are kept when not in secretsDir (database passwords, the application's connection). */
  secretStore: secretStoreConfig.optional(),
  /** The Kubernetes clusters the worker reaches (app.kubernetes and secretStore.kubernetes name one). */
  kubernetes: kubernetesConfig.optional(),
}).superRefine((config, ctx) => {
  checkNotificationChannels(config, ctx);
  for (const { path: field, message } of unknownKubernetesClusters(config)) ctx.addIssue({ code: 'custom', path: field, message });
  for (const { path: field, message } of awsConfigProblems(config)) ctx.addIssue({ code: 'custom', path: field, message });
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
export type { AwsConfig, RdsPlatformConfig, Route53DnsConfig, S3ObjectStoreConfig, SecretsManagerConfig } from './aws-config';
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
  if (config.dns?.mappingFile) config.dns.mappingFile = fromConfigDir(config.dns.mappingFile);
  for (const cluster of Object.values(config.kubernetes?.clusters ?? {})) {
    if (cluster.kubeconfig) cluster.kubeconfig = fromConfigDir(cluster.kubeconfig.replace(/^~(?=\/)/, process.env.HOME ?? '~'));
  }
  if (config.objectStore?.directory) config.objectStore.directory = fromConfigDir(config.objectStore.directory);
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
