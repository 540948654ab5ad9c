import { Client, Connection } from '@temporalio/client';
import { clientConnectionOptions, connectOrExplain, loadTemporalConnectionSettings, type TemporalConnectionSettings } from '../lib/temporal-connection';
import { PrerequisiteError } from '../lib/prerequisite-error';
import { secretStoreFor } from '../worker/adapters';
import { loadWorkerConfig, taskQueueOf } from '../worker/config';
import { dataConverterFor, payloadCodecFor } from '../worker/payload-encryption';

/**
 * A Temporal client for the CLI, connected the way the `temporal` CLI connects (lib/temporal-connection:
 * a temporal.toml profile, TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY / TEMPORAL_TLS_*), with
 * the environment's payload codec when DR_CONFIG names a config that encrypts payloads.
 */
export async function connectClient(env: NodeJS.ProcessEnv = process.env) {
  let settings: TemporalConnectionSettings;
  try {
    settings = loadTemporalConnectionSettings({ env });
  } catch (error) {
    if (error instanceof PrerequisiteError) throw new CliError(`cannot reach Temporal: ${error.what}. Fix: ${error.fix}`, ExitCode.Unavailable);
    throw error;
  }
  let connection: Connection;
  try {
    connection = await connectOrExplain(settings, () => Connection.connect({ ...clientConnectionOptions(settings), connectTimeout: 5000 }));
  } catch (error) {
    const said = error instanceof PrerequisiteError ? `${error.what}. Fix: ${error.fix}` : (error as Error).message;
    throw new CliError(`cannot reach Temporal at ${settings.address}: ${said}`, ExitCode.Unavailable);
  }
  const dataConverter = dataConverterFromConfig(env);
  return { client: new Client({ connection, namespace: settings.namespace, dataConverter }), connection, settings: { address: settings.address, namespace: settings.namespace, taskQueue: taskQueueOf(env) } };
}

/** The payload codec of the worker config DR_CONFIG names (its payloadEncryption and secret store); none without it. */
export function dataConverterFromConfig(env: NodeJS.ProcessEnv = process.env) {
  if (!env.DR_CONFIG) return dataConverterFor(undefined);
  const config = loadWorkerConfig(env.DR_CONFIG);
  return dataConverterFor(payloadCodecFor(config, secretStoreFor(config)));
}

/** Exit codes a script can branch on. */
export enum ExitCode {
  Ok = 0,
  Failed = 1,
  Usage = 2,
  Refused = 3,
  Unavailable = 4,
}

export class CliError extends Error {
  constructor(message: string, readonly exitCode: ExitCode = ExitCode.Failed) {
    super(message);
  }
}
