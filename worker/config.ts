import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { duration } from '../contracts/durations';

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

/** What a vote must carry: an SSH signature, a one-time code, either, or nothing (say so explicitly). */
const voteAuthentication = z.enum(['ssh', 'totp', 'ssh-or-totp', 'none'], { error: 'must be ssh, totp, ssh-or-totp or none' });
const personName = z.string().trim().min(1).max(128).refine((name) => !/[\u0000-\u001f\u007f-\u009f]/.test(name), 'must not contain control characters');
const secretName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "must be a secret name: letters, digits, '.', '_' and '-'");

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
  /** Which DatabasePlatform adapter the worker wires; none configured means platform activities refuse. */
  platform: z.strictObject({ local: localPlatformConfig.optional() }).optional(),
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

/** The task queue the worker polls and `dr` starts runbooks on. */
export function taskQueueOf(env: NodeJS.ProcessEnv = process.env): string {
  return env.DR_TASK_QUEUE ?? 'dr-runbooks';
}
