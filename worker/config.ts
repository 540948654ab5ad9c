import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { duration, durationToMs } from '../contracts/durations';
import { scenarioNames, startableWorkflows } from '../workflows/scenarios';

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

/** Every database the metrics name is one of the config's. */
function checkMetricsDatabases(config: { databases: Record<string, unknown>; metrics?: { databases?: string[]; replicas: Array<{ database: string }> } }, ctx: z.RefinementCtx): void {
  const known = Object.keys(config.databases);
  const check = (name: string, path: Array<string | number>) => {
    if (!(name in config.databases)) ctx.addIssue({ code: 'custom', path, message: `"${name}" is not in databases (known: ${known.join(', ') || 'none'})` });
  };
  config.metrics?.databases?.forEach((name, i) => check(name, ['metrics', 'databases', i]));
  config.metrics?.replicas.forEach((r, i) => check(r.database, ['metrics', 'replicas', i, 'database']));
}

/** What every incident message says about the application. */
const messagesConfig = z.strictObject({
  /** "MITA" → "[CRITICAL] MITA Database Incident - Response In Progress". */
  application: z.string().trim().min(1).optional(),
  /** The Temporal Web UI's base URL, for a link to the run in every message. */
  webUiUrl: httpUrl.optional(),
  /** How often a running runbook sends a status update (the seed: every 30 minutes). */
  statusUpdateEvery: duration.refine((d) => durationToMs(d) >= 1000, 'must be at least 1 second').default('30 minutes'),
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

/** The application the runbooks cut over (local adapter: the demo financial service). Paths relative to the config file. */
const appConfig = z.strictObject({
  /** Env file holding the app's DATABASE_URL (written by pointAppAtDatabase). */
  envFile: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** Defaults to http://127.0.0.1:<port>/health/database. */
  healthUrl: z.string().url().optional(),
  /** The service command without its flags (the local stack names the demo financial service); required by the local runtime. */
  command: z.array(z.string().min(1)).min(1).optional(),
  /** Where the service runs, relative to the config file; default: the env file's directory. */
  workingDirectory: z.string().min(1).optional(),
  /** The secret (by name) the runbooks write the application's database connection to; default app-database-connection. */
  connectionSecret: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "letters, digits, '.', '_' and '-'").optional(),
  pidFile: z.string().optional(),
  logFile: z.string().optional(),
});

const dnsConfig = z.strictObject({
  /** JSON mapping file (name → host:port, TTL, history) the demo service resolves through. */
  mappingFile: z.string().min(1),
  defaultTtlSeconds: z.number().int().min(0).max(86_400).default(30),
});

/** host:port to listen on, e.g. "127.0.0.1:9464" (loopback) or "0.0.0.0:9464" (every interface). */
const listenAddress = z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/, 'must be host:port, e.g. 127.0.0.1:9464').refine((value) => {
  const port = Number(value.slice(value.lastIndexOf(':') + 1));
  return port >= 1 && port <= 65535;
}, 'the port must be 1-65535');

/**
 * The worker's Prometheus endpoint (config/alerts/METRICS.md): the SDK's runtime metrics and ours on one
 * /metrics, and how often the application databases, their backups and replicas are measured.
 */
const metricsConfig = z.strictObject({
  listen: listenAddress,
  /** Application databases to watch, by config name; default every database but `audit.database`. */
  databases: z.array(z.string().min(1)).optional(),
  /** Reachability (postgres_up), WAL archive lag and replica lag. */
  interval: duration.default('15 seconds'),
  /** How long one probe or WAL query may take before the database counts as unreachable. */
  timeout: duration.default('5 seconds'),
  /** The integrity checks read whole tables: less often. */
  integrityInterval: duration.default('5 minutes'),
  /** Listing the platform's backup sets (pgbackrest info, an RDS call). */
  backupInterval: duration.default('1 minute'),
  /** The newest good backup's objective; default the RPO (objectives.default.rpo). A daily backup with continuous WAL archiving: e.g. "26 hours". */
  backupMaxAge: duration.optional(),
  /** Replicas to measure, by platform instance name, with the database each follows. */
  replicas: z.array(z.strictObject({ replica: z.string().min(1), database: z.string().min(1) })).default([]),
});

/** Who may start what from an alert: anything startable but a drill (an alert is never a rehearsal). */
const alertStartable = Object.keys(startableWorkflows).filter((name) => name !== 'drill') as [string, ...string[]];
const alertName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);
const labelName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a Prometheus label name');
const alertRunbook = z.strictObject({
  /** A scenario (server-failure, …) or "assess". */
  start: z.enum(alertStartable, { error: `must be one of: ${alertStartable.join(', ')}` }),
  /** Input fields taken from the alert's labels: input field → label name (e.g. database: database). */
  labels: z.record(z.string().min(1), labelName).default({}),
  /** Fixed input fields, e.g. { replica: standby }; checked with the workflow's own schema when an alert starts it. */
  input: z.record(z.string().min(1), z.unknown()).default({}),
  /** "assess" only: page people with the assessment (a runbook pages by itself when it opens). */
  page: z.boolean().default(false),
});
const secretRef = z.string().trim().min(1, 'the name of a secret (resolved by the worker: DR_SECRET_<NAME> or a file in secretsDir)');
/** Alertmanager authenticates with its webhook_configs http_config: a bearer token or basic auth. */
const alertReceiverAuth = z.union([
  z.strictObject({ bearerTokenSecret: secretRef }),
  z.strictObject({ basicAuth: z.strictObject({ username: z.string().min(1), passwordSecret: secretRef }) }),
], { error: 'must be { bearerTokenSecret: <secret> } or { basicAuth: { username, passwordSecret } }' });
const alertsConfig = z.strictObject({
  /** The Alertmanager webhook receiver (`npm run alert-receiver`). */
  receiver: z.strictObject({
    listen: listenAddress,
    auth: alertReceiverAuth,
    /** The runbooks' startedBy: the audit trail names it, and the two-person rule keeps it from approving. */
    identity: z.string().trim().min(1).max(128).default('alertmanager'),
  }).optional(),
  /** alertname → what it starts. Default: the seed's two database alerts. */
  runbooks: z.record(z.string(), alertRunbook).superRefine((runbooks, ctx) => {
    for (const name of Object.keys(runbooks)) {
      if (!alertName.safeParse(name).success) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is not an alert name (the alertname label: letters, digits and _)` });
    }
  }).default({
    DatabaseConnectionFailure: { start: 'server-failure', labels: { database: 'database' }, input: {}, page: false },
    DataCorruptionDetected: { start: 'assess', labels: { database: 'database' }, input: {}, page: true },
  }),
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
  /** Escalation audiences (approvals.escalation's `notify`) → the channels that hear them. */
  audiences: z.record(z.string().min(1), z.array(channelName).min(1, 'list at least one channel')).optional(),
  messages: messagesConfig.prefault({}),
  /** Which DatabasePlatform adapter the worker wires; none configured means platform activities refuse. */
  platform: z.strictObject({ local: localPlatformConfig.optional() }).optional(),
  /** The worker serves Prometheus metrics when set. */
  metrics: metricsConfig.optional(),
  /** Alert-triggered runbooks. */
  alerts: alertsConfig.prefault({}),
}).superRefine(checkNotificationChannels).superRefine(checkMetricsDatabases);
export type WorkerConfig = z.infer<typeof workerConfigSchema>;
export type ApprovalsConfig = z.infer<typeof approvalsConfig>;
export type GateConfig = z.infer<typeof gateConfig>;
export type ObjectivesConfig = z.infer<typeof objectivesConfig>;
export type NotifierConfig = z.infer<typeof notifierConfig>;
export type DatabaseConfig = z.infer<typeof databaseConfig>;
export type AppConfig = z.infer<typeof appConfig>;
export type DnsConfig = z.infer<typeof dnsConfig>;
export type LocalPlatformConfig = z.infer<typeof localPlatformConfig>;
export type MetricsConfig = z.infer<typeof metricsConfig>;
export type AlertsConfig = z.infer<typeof alertsConfig>;
export type AlertRunbook = z.infer<typeof alertRunbook>;

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
    config.app.envFile = fromConfigDir(config.app.envFile);
    if (config.app.pidFile) config.app.pidFile = fromConfigDir(config.app.pidFile);
    if (config.app.logFile) config.app.logFile = fromConfigDir(config.app.logFile);
    if (config.app.workingDirectory) config.app.workingDirectory = fromConfigDir(config.app.workingDirectory);
  }
  if (config.dns) config.dns.mappingFile = fromConfigDir(config.dns.mappingFile);
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
