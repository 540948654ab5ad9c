import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { duration, durationToMs } from '../contracts/durations';
import { scenarioNames, startableWorkflows } from '../workflows/scenarios';
import { awsConfig, awsConfigProblems, rdsPlatformConfig, route53DnsConfig, s3ObjectStoreConfig, secretsManagerConfig } from './aws-config';
import { kubernetesAppConfig, kubernetesConfig, kubernetesSecretStoreConfig, unknownKubernetesClusters } from './kubernetes-config';
import { applicationDeclarationSchema } from '../activities/validation/declaration';
import { secretNamePattern, secretNameRule } from '../activities/ports/secret-store';

// One rule for every secret a config names, the port's: a name the runbook could not read at 3 a.m. is refused at start-up.
const secretName = z.string().regex(secretNamePattern, `must be the name of a secret (resolved by the worker's secret store, or DR_SECRET_<NAME> or a file in secretsDir): ${secretNameRule}`);

const databaseConfig = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  database: z.string().min(1),
  user: z.string().min(1),
  /** Name of the secret holding the password: resolved by the worker, never written anywhere. */
  passwordSecret: secretName,
});


const escalationTier = z.strictObject({
  after: duration.describe('time after the gate opened'),
  notify: z.string().min(1).describe('the audience notified at this tier'),
});

/** What a vote must carry: an SSH signature, a one-time code, either, or nothing (say so explicitly). */
const voteAuthentication = z.enum(['ssh', 'totp', 'ssh-or-totp', 'none'], { error: 'must be ssh, totp, ssh-or-totp or none' });
const personName = z.string().trim().min(1).max(128).refine((name) => !/[\u0000-\u001f\u007f-\u009f]/.test(name), 'must not contain control characters');

const gateConfig = z.strictObject({
  approvers: z.array(personName).min(1),
  quorum: z.number().int().min(1).optional(),
  /** Default: on (every gate comes before a production change); false relaxes it, and the plan says so at the gate. */
  twoPersonRule: z.boolean().optional(),
  escalation: z.array(escalationTier).optional(),
  deadline: duration.optional(),
  /** Overrides approvals.authentication for this gate. */
  authentication: voteAuthentication.optional(),
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
   * which rehearses the people as well as the machinery (with `authentication` as their proof, when set).
   */
  drill: z.strictObject({ autoApprove: z.boolean().default(true), authentication: voteAuthentication.optional() }).prefault({}),
  /** The proof every vote and abort of this environment needs, unless a gate says otherwise. Real runs need one by default. */
  authentication: voteAuthentication.default('ssh-or-totp'),
  /** The allowed-signers file (ssh-keygen/git format; principals are approver names), relative to the config file. */
  allowedSigners: z.string().min(1).optional(),
  /** Secret (by name) holding each approver's TOTP secret (base32); default totp-<approver>. */
  totpSecrets: z.record(z.string(), secretName).default({}),
  /** Who may abort a runbook; default: every approver of the scenario's gates. */
  incidentCommanders: z.array(personName).min(1).optional(),
  /** The proof an abort needs; default approvals.authentication. */
  abort: z.strictObject({ authentication: voteAuthentication.optional() }).prefault({}),
  /** A signed vote whose statement time is further than this from the worker's clock is refused (a replay, or a wrong clock). */
  maxClockSkew: duration.default('5 minutes'),
});

const objective = z.strictObject({ rto: duration, rpo: duration });
/** One recovered system (seed 002): its tier (whose RTO applies to it) and its own RPO. */
const systemObjective = z.strictObject({ tier: z.string().min(1), rpo: duration });
const objectivesConfig = z.strictObject({
  // The seed's plan: RTO 1 hour, RPO 15 minutes.
  default: objective.default({ rto: '1 hour', rpo: '15 minutes' }),
  scenarios: z.record(z.string(), objective.partial()).default({}),
  // Seed 002's tiers: critical systems (database, authentication: the sessions) back within 2 hours,
  // supporting ones (file storage) within 4; each system its own RPO.
  tiers: z.record(z.string(), z.strictObject({ rto: duration })).default({ critical: { rto: '2 hours' }, supporting: { rto: '4 hours' } }),
  systems: z.strictObject({ database: systemObjective, cache: systemObjective, files: systemObjective }).default({
    database: { tier: 'critical', rpo: '15 minutes' },
    cache: { tier: 'critical', rpo: '1 hour' },
    files: { tier: 'supporting', rpo: '1 hour' },
  }),
});

// Notification channels. Every credential is a secret's name (a Slack webhook URL is a credential too).
const channelName = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, _ and - only').describe('the channel\'s name in `audiences` and in errors; default its type');
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

/** Fields of the local runtime (the demo financial service as one process); the Kubernetes runtime uses none of them. */
const localAppFields = ['envFile', 'port', 'healthUrl', 'command', 'workingDirectory', 'pidFile', 'logFile', 'environment'] as const;

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
  connectionSecret: secretName.optional(),
  /**
   * The PostgreSQL role the application signs in as. Every cutover gives it a new password on the
   * instance the application moves to (through the worker's admin connection), and revokes the old one.
   */
  databaseRole: z.string().regex(/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/, "must be a PostgreSQL role name: letters, digits, '_', '$' and '-', at most 63, starting with a letter or '_'").optional(),
  pidFile: z.string().optional(),
  logFile: z.string().optional(),
  /** Extra environment of the application's process (local runtime), e.g. where its files live. */
  environment: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name: A-Z, 0-9 and _'), z.string()).optional(),
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
/** Alertmanager authenticates with its webhook_configs http_config: a bearer token or basic auth. */
const alertReceiverAuth = z.union([
  z.strictObject({ bearerTokenSecret: secretName }),
  z.strictObject({ basicAuth: z.strictObject({ username: z.string().min(1), passwordSecret: secretName }) }),
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

/** Ids the platforms choose by: backup ids, instance ids, archive kinds (a directory, an object key part, a cloud name). */
const identifier = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "1-63 of a-z, 0-9 and '-', starting with a letter");

/** The embedded cache platform: redis-server 7 instances on loopback under a state directory. */
const localCacheConfig = z.strictObject({
  /** The platform's directory (instances.json, the restored instances), relative to the config file. */
  stateDir: z.string().min(1),
  /** Running Redis servers the platform is enrolled with (production): never deleted by a runbook. Their files must be on this machine. */
  instances: z.record(identifier, z.strictObject({ port: z.number().int().min(1).max(65535), passwordFile: z.string().min(1) })).default({}),
  /** Longest a restored server may take to load its backup. */
  loadTimeoutSeconds: z.number().int().positive().default(600),
});

/** ElastiCache (Redis OSS) replication groups; RDB snapshots only (no AOF backups on ElastiCache). */
const elastiCacheConfig = z.strictObject({
  region: z.string().min(1),
  /** Instead of AWS's own endpoint (moto in the tests). */
  endpoint: z.string().url().optional(),
  /** Only for an endpoint that is not AWS; AWS itself is reached with the SDK's default credential chain. */
  credentials: z.strictObject({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) }).optional(),
  /** Groups the platform is enrolled with, by instance id: protected, never deleted by a runbook. */
  replicationGroups: z.record(identifier, z.strictObject({
    replicationGroupId: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'an ElastiCache replication group id: 1-40 of a-z, 0-9 and -'),
    /** The secret holding the group's AUTH token. */
    authTokenSecret: secretName,
    /** How the worker reaches the group's Redis when not at its own endpoint (a tunnel, a proxy). */
    endpoint: z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535), tls: z.boolean().default(true) }).optional(),
  })).default({}),
  /** What restored groups are built with. */
  nodeType: z.string().min(1).default('cache.t4g.small'),
  subnetGroupName: z.string().min(1).optional(),
  securityGroupIds: z.array(z.string().min(1)).optional(),
  /** Restored groups' AUTH tokens are written to secrets named <prefix><instance id>. */
  authTokenSecretPrefix: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$/).default('elasticache-auth-'),
  pollIntervalSeconds: z.number().min(0.1).max(300).default(15),
  createTimeoutSeconds: z.number().int().positive().default(3600),
});

/** Seed 002's cache layer: which platform runs Redis, the application's cache connection secret, its sessions. */
const cacheConfig = z.strictObject({
  /** The secret the runbooks write the application's cache connection to when they point it at a cache. */
  connectionSecret: secretName.default('app-cache-connection'),
  /** The application's session keys (SCAN MATCH syntax) and database. */
  sessions: z.strictObject({ pattern: z.string().min(1).default('session:*'), db: z.number().int().min(0).max(15).default(0) }).prefault({}),
  local: localCacheConfig.optional(),
  elasticache: elastiCacheConfig.optional(),
}).refine((c) => (c.local === undefined) !== (c.elasticache === undefined), { message: 'set exactly one of cache.local and cache.elasticache' });

/** An archive kind: the directory backed up, where a drill restores it, how its staged copy is checked. */
const archiveKindConfig = z.strictObject({
  /** Relative to the config file. */
  sourceDir: z.string().min(1),
  /** Where a drill restores (never the source). */
  drillDir: z.string().min(1).optional(),
  /** Run in the staged copy before it may be moved into place (argv, no shell); must not write there. */
  verify: z.strictObject({ argv: z.array(z.string().min(1)).min(1), timeoutSeconds: z.number().int().positive().max(3600).default(300) }).optional(),
});

/** Seed 002's file backups: encrypted, compressed archives of documents, configs and code, with manifests. */
const filesConfig = z.strictObject({
  /** The encryption key new archives are sealed with, by id: a secret of that name holds 32 bytes, base64. */
  keyId: secretName,
  /** Restore journals and temporary files, relative to the config file. */
  stateDir: z.string().min(1),
  /** The versioned object store of the archives (local adapter: a directory); default objectStore.directory. */
  objectStore: z.strictObject({ directory: z.string().min(1) }).optional(),
  archives: z.record(identifier, archiveKindConfig).refine((a) => Object.keys(a).length > 0, 'name at least one archive kind, e.g. documents'),
});

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
  audit: z.strictObject({
    database: z.string().min(1),
    /**
     * The key each trail's head is signed with, kept in the secret store (never in the database): an
     * Ed25519 private key (PEM) or an HMAC key (base64, at least 32 bytes). The signed heads go to the
     * object store under `heads/`, where the database's superuser cannot rewrite them.
     */
    headSigning: z.strictObject({ kind: z.enum(['ed25519', 'hmac']), keySecret: secretName }).optional(),
  }).optional(),
  /**
   * Payloads (inputs, results, signals, updates, failures) encrypted with AES-256-GCM before they reach
   * Temporal; keys in the secret store as `<keySecretPrefix><id>` (base64 of 32 bytes). Rotate by adding
   * a key and changing currentKeyId; keep old keys while histories written with them are read.
   */
  payloadEncryption: z.strictObject({ currentKeyId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" and "-"'), keySecretPrefix: secretName.default('payload-key-') }).optional(),
  approvals: approvalsConfig.prefault({}),
  objectives: objectivesConfig.prefault({}),
  notifiers: z.array(notifierConfig).default([{ type: 'console' }]),
  /** Escalation audiences (approvals.escalation's `notify`) → the channels that hear them. */
  audiences: z.record(z.string().min(1), z.array(channelName).min(1, 'list at least one channel')).optional(),
  messages: messagesConfig.prefault({}),
  /** What the application declares to the validation gate: append-only tables, money, ownership, currency, business keys. */
  application: applicationDeclarationSchema.optional(),
  /** Which DatabasePlatform adapter the worker wires; none configured means platform activities refuse. */
  platform: platformConfig.optional(),
  /** How the worker reaches AWS, for platform.rds, objectStore.s3, dns.route53 and secretStore.secretsManager. */
  aws: awsConfig.optional(),
  /** Where secrets are kept when not in secretsDir (database passwords, the application's connection). */
  secretStore: secretStoreConfig.optional(),
  /** The Kubernetes clusters the worker reaches (app.kubernetes and secretStore.kubernetes name one). */
  kubernetes: kubernetesConfig.optional(),
  /** The worker serves Prometheus metrics when set. */
  metrics: metricsConfig.optional(),
  /** Alert-triggered runbooks. */
  alerts: alertsConfig.prefault({}),
  /** Which CachePlatform adapter the worker wires (seed 002's Redis); none means the cache activities refuse. */
  cache: cacheConfig.optional(),
  /** The FileBackup archives (seed 002's documents, configs, code); none means the file activities refuse. */
  files: filesConfig.optional(),
}).superRefine((config, ctx) => {
  checkNotificationChannels(config, ctx);
  checkMetricsDatabases(config, ctx);
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
export type MetricsConfig = z.infer<typeof metricsConfig>;
export type AlertsConfig = z.infer<typeof alertsConfig>;
export type AlertRunbook = z.infer<typeof alertRunbook>;
export type CacheConfig = z.infer<typeof cacheConfig>;
export type ElastiCacheConfig = z.infer<typeof elastiCacheConfig>;
export type FilesConfig = z.infer<typeof filesConfig>;

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
  if (config.approvals.allowedSigners) config.approvals.allowedSigners = fromConfigDir(config.approvals.allowedSigners);
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
  const cache = config.cache?.local;
  if (cache) {
    cache.stateDir = fromConfigDir(cache.stateDir);
    for (const instance of Object.values(cache.instances)) instance.passwordFile = fromConfigDir(instance.passwordFile);
  }
  if (config.files) {
    config.files.stateDir = fromConfigDir(config.files.stateDir);
    if (config.files.objectStore) config.files.objectStore.directory = fromConfigDir(config.files.objectStore.directory);
    else if (!config.objectStore) throw new Error(`config ${file} is invalid: files.objectStore: set it (or objectStore) so the archives have a versioned store`);
    for (const archive of Object.values(config.files.archives)) {
      archive.sourceDir = fromConfigDir(archive.sourceDir);
      if (archive.drillDir) archive.drillDir = fromConfigDir(archive.drillDir);
    }
  }
  const tiers = Object.keys(config.objectives.tiers);
  for (const [system, objective] of Object.entries(config.objectives.systems)) {
    if (!tiers.includes(objective.tier)) throw new Error(`config ${file} is invalid: objectives.systems.${system}.tier: "${objective.tier}" is not in objectives.tiers (known: ${tiers.join(', ')})`);
  }
  return config;
}

/** The task queue the worker polls and `dr` starts runbooks on. */
export function taskQueueOf(env: NodeJS.ProcessEnv = process.env): string {
  return env.DR_TASK_QUEUE ?? 'dr-runbooks';
}
