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

export const workerConfigSchema = z.strictObject({
  environment: z.string().min(1).default('local'),
  /** Directory of secret files (one file per secret name), relative to the config file. */
  secretsDir: z.string().optional(),
  databases: z.record(z.string(), databaseConfig),
  /** Which configured database holds dr_audit_log; the audit activities are registered only when set. */
  audit: z.strictObject({ database: z.string().min(1) }).optional(),
});
export type WorkerConfig = z.infer<typeof workerConfigSchema>;
export type DatabaseConfig = z.infer<typeof databaseConfig>;

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
