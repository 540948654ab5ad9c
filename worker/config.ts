import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';

const databaseConfig = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  database: z.string().min(1),
  user: z.string().min(1),
  /** Name of the secret holding the password: resolved by the worker, never written anywhere. */
  passwordSecret: z.string().min(1),
});

/** The application the runbooks cut over (local adapter: the demo financial service). Paths relative to the config file. */
const appConfig = z.strictObject({
  /** Env file holding the app's DATABASE_URL (written by pointAppAtDatabase). */
  envFile: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** Defaults to http://127.0.0.1:<port>/health/database. */
  healthUrl: z.string().url().optional(),
  /** The service command without its flags; defaults to the demo financial service. */
  command: z.array(z.string().min(1)).min(1).optional(),
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
  dns: dnsConfig.optional(),
  /** Which configured database holds dr_audit_log; the audit activities are registered only when set. */
  audit: z.strictObject({ database: z.string().min(1) }).optional(),
});
export type WorkerConfig = z.infer<typeof workerConfigSchema>;
export type DatabaseConfig = z.infer<typeof databaseConfig>;
export type AppConfig = z.infer<typeof appConfig>;
export type DnsConfig = z.infer<typeof dnsConfig>;

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
  }
  if (config.dns) config.dns.mappingFile = fromConfigDir(config.dns.mappingFile);
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
