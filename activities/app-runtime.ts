import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Client } from 'pg';
import { FailureType } from '../contracts/failure-types';
import { withHeartbeat } from './activity-context';
import { databaseUrl } from '../lib/postgres-url';
import type { DatabaseConnection, DatabaseConnections } from './database-connections';
import type { AppHealth, AppRuntime, PointAppResult, RestartResult } from './ports/app-runtime';
import type { SecretStore } from './ports/secret-store';

/** The one resolver of database names the worker wired (config databases and platform instances). */
export type DatabaseTargetResolver = DatabaseConnections['connection'];

export interface PointAppAtDatabaseInput { database: string }
export interface WaitUntilAppHealthyInput {
  /** The config name of the database the app must answer from. */
  database: string;
  timeoutSeconds?: number;
  pollIntervalSeconds?: number;
}

export interface AppRuntimeWiring {
  runtime: AppRuntime;
  databases: DatabaseTargetResolver;
  secrets: SecretStore;
  /** The secret that holds the application's database connection (config `app.connectionSecret`). */
  connectionSecret: string;
}

async function resolve(targets: DatabaseTargetResolver, name: string): Promise<DatabaseConnection> {
  try {
    return await targets(name);
  } catch (error) {
    throw ApplicationFailure.create({ type: FailureType.UnknownDatabase, message: `database: ${(error as Error).message}`, nonRetryable: true });
  }
}

/** The target's own system identifier, so "healthy" means this cluster and not one on a reused port. */
async function systemIdentifierOf(target: DatabaseConnection): Promise<string | null> {
  const client = new Client({ host: target.host, port: target.port, database: target.database, user: target.user, password: target.password, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0]?.id ?? null;
  } catch {
    return null; // unreachable now: waitHealthy will say so from the app's side
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Cut-over activities over an AppRuntime. Inputs and results carry config names and host:port only: the
 * application's connection to the database is written here, inside the worker, as a new version of its
 * connection secret in the SecretStore, and the runtime is pointed at that version by reference.
 */
export function createAppRuntimeActivities({ runtime, databases, secrets, connectionSecret }: AppRuntimeWiring) {
  return {
    async pointAppAtDatabase(input: PointAppAtDatabaseInput): Promise<PointAppResult> {
      const target = await resolve(databases, input.database);
      const endpoint = { host: target.host, port: target.port, database: target.database };
      const secret = await secrets.write(connectionSecret, databaseUrl({ ...endpoint, user: target.user, password: await target.password() }));
      return runtime.pointAppAt({ database: input.database, endpoint, secret: { name: secret.name, version: secret.version } });
    },

    async rollbackAppDatabasePointer(): Promise<PointAppResult> {
      return runtime.rollbackAppPointer();
    },

    async restartApp(): Promise<RestartResult> {
      const { restartedAt, stopped, started } = await runtime.restart();
      return { restartedAt, stopped, started };
    },

    async scaleApp(input: { replicas: number }): Promise<{ replicas: number }> {
      return runtime.scale(input.replicas);
    },

    async waitUntilAppHealthy(input: WaitUntilAppHealthyInput): Promise<AppHealth> {
      const target = await resolve(databases, input.database);
      const context = Context.current();
      const systemIdentifier = await systemIdentifierOf(target);
      try {
        return await withHeartbeat((beat) => runtime.waitHealthy({
          expect: { address: `${target.host}:${target.port}`, database: target.database, systemIdentifier },
          timeoutMs: (input.timeoutSeconds ?? 120) * 1000,
          intervalMs: (input.pollIntervalSeconds ?? 1) * 1000,
          onPoll: (attempt, lastAnswer) => beat({ attempt, lastAnswer }),
          signal: context.cancellationSignal,
        }));
      } catch (error) {
        if (context.cancellationSignal.aborted) {
          await context.cancelled; // rejects with the CancelledFailure the SDK expects
          throw error;
        }
        throw ApplicationFailure.create({ type: FailureType.AppNotHealthy, message: (error as Error).message });
      }
    },
  };
}
