import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../contracts/failure-types';
import { withHeartbeat } from './activity-context';
import { withDatabaseClient } from './database-client';
import { databaseUrl } from '../lib/postgres-url';
import type { DatabaseConnection, DatabaseConnections } from './database-connections';
import { RolloutFailedError, type AppHealth, type AppRuntime, type PointAppResult, type RestartResult, type RolloutStatus } from './ports/app-runtime';
import type { SecretRef, SecretStore } from './ports/secret-store';

/** The one resolver of database names the worker wired (config databases and platform instances). */
export type DatabaseTargetResolver = DatabaseConnections['connection'];

export interface PointAppAtDatabaseInput {
  database: string;
  /** The connection secret version to point it at (a rotation wrote it); without one, a version is written from the worker's own connection. */
  secret?: SecretRef;
}
export interface WaitForAppRolloutInput {
  /** Default: the runtime's own (config); a Deployment's progress deadline ends a stuck rollout sooner. */
  timeoutSeconds?: number;
}
export interface WaitUntilAppHealthyInput {
  /** The config name of the database the app must answer from. */
  database: string;
  timeoutSeconds?: number;
  pollIntervalSeconds?: number;
  /** Ask the standby copy (the one scaleApp starts in the DR region), not the primary's: the region outage's check. */
  standby?: boolean;
}

export interface AppRuntimeWiring {
  runtime: AppRuntime;
  databases: DatabaseTargetResolver;
  secrets: SecretStore;
  /** The secret that holds the application's database connection (config `app.connectionSecret`). */
  connectionSecret: string;
}

/** The connection of a database name, or a non-retryable UnknownDatabase failure naming the known ones. */
export async function resolveDatabaseTarget(targets: DatabaseTargetResolver, name: string): Promise<DatabaseConnection> {
  try {
    return await targets(name);
  } catch (error) {
    throw ApplicationFailure.create({ type: FailureType.UnknownDatabase, message: `database: ${(error as Error).message}`, nonRetryable: true });
  }
}

/** The target's own system identifier, so "healthy" means this cluster and not one on a reused port. */
async function systemIdentifierOf(target: DatabaseConnection): Promise<string | null> {
  try {
    const connection = { host: target.host, port: target.port, database: target.database, user: target.user, password: await target.password() };
    return await withDatabaseClient(connection, async (db) => (await db.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0]?.id ?? null, 3000);
  } catch {
    return null; // unreachable now: waitHealthy will say so from the app's side
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
      const target = await resolveDatabaseTarget(databases, input.database);
      const endpoint = { host: target.host, port: target.port, database: target.database };
      if (input.secret) return runtime.pointAppAt({ database: input.database, endpoint, secret: input.secret });
      // Runs recorded before every cutover rotated: the application gets the worker's own connection, and
      // what it held before is kept as a version first, so the runtime's previous pointer names one.
      await runtime.adoptCurrentConnection(connectionSecret);
      const secret = await secrets.write(connectionSecret, databaseUrl({ ...endpoint, user: target.user, password: await target.password() }));
      return runtime.pointAppAt({ database: input.database, endpoint, secret: { name: secret.name, version: secret.version } });
    },

    async rollbackAppDatabasePointer(): Promise<PointAppResult> {
      return runtime.rollbackAppPointer();
    },

    async restartApp(): Promise<RestartResult> {
      const { restartedAt, stopped, started } = await rolloutFailure(() => runtime.restart());
      return { restartedAt, stopped, started };
    },

    /** Waits until the last restart runs on every replica, heartbeating the platform's progress ("2 of 3 updated"). */
    async waitForAppRollout(input: WaitForAppRolloutInput = {}): Promise<RolloutStatus> {
      const context = Context.current();
      return rolloutFailure(() => withHeartbeat((beat) => runtime.waitRolledOut({
        ...(input.timeoutSeconds !== undefined ? { timeoutMs: input.timeoutSeconds * 1000 } : {}),
        onProgress: (status) => beat({ progress: `${status.updated} of ${status.desired} updated, ${status.available} available`, message: status.message }),
        signal: context.cancellationSignal,
      })));
    },

    async scaleApp(input: { replicas: number }): Promise<{ replicas: number }> {
      const context = Context.current();
      // Waiting for the replicas ends before the step's own timeout, so the failure says what the platform saw.
      const timeoutMs = Math.max(5000, (context.info.startToCloseTimeoutMs || 120_000) - 5000);
      return rolloutFailure(() => withHeartbeat((beat) => runtime.scale(input.replicas, {
        timeoutMs,
        onProgress: (status) => beat({ progress: `${status.available} of ${status.desired} available`, message: status.message }),
        signal: context.cancellationSignal,
      })));
    },

    async waitUntilAppHealthy(input: WaitUntilAppHealthyInput): Promise<AppHealth> {
      const target = await resolveDatabaseTarget(databases, input.database);
      const context = Context.current();
      const systemIdentifier = await systemIdentifierOf(target);
      try {
        return await withHeartbeat((beat) => runtime.waitHealthy({
          ...(input.standby ? { standby: true } : {}),
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

/** A rollout that cannot finish fails for good, with the platform's words and where it stopped. */
async function rolloutFailure<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RolloutFailedError) {
      throw ApplicationFailure.create({ type: FailureType.RolloutFailed, message: error.message, nonRetryable: true, details: error.status ? [error.status] : [] });
    }
    throw error;
  }
}
