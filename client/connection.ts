import { Client, Connection } from '@temporalio/client';
import { temporalSettings } from '../worker/config';

/** A Temporal client for the CLI, from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE. */
export async function connectClient(env: NodeJS.ProcessEnv = process.env) {
  const settings = temporalSettings(env);
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: settings.address, connectTimeout: 5000 });
  } catch (error) {
    throw new CliError(`cannot reach Temporal at ${settings.address}: ${(error as Error).message}`, ExitCode.Unavailable);
  }
  return { client: new Client({ connection, namespace: settings.namespace }), connection, settings };
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
