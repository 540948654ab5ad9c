import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Client } from 'pg';
import type { AppDatabaseTarget, AppHealth, AppRuntime, PointAppResult, RestartResult } from './ports/app-runtime';
import { FailureType } from '../contracts/failure-types';

/** Builds a connection target (with its password) from a database's config name, inside the worker only. */
export type DatabaseTargetResolver = (name: string) => AppDatabaseTarget;

export interface PointAppAtDatabaseInput { database: string }
export interface WaitUntilAppHealthyInput {
  /** The config name of the database the app must answer from. */
  database: string;
  timeoutSeconds?: number;
  pollIntervalSeconds?: number;
}

function resolve(targets: DatabaseTargetResolver, name: string): AppDatabaseTarget {
  try {
    return targets(name);
  } catch (error) {
    throw ApplicationFailure.create({ type: FailureType.UnknownDatabase, message: `database: ${(error as Error).message}`, nonRetryable: true });
  }
}

/** The target's own system identifier, so "healthy" means this cluster and not one on a reused port. */
async function systemIdentifierOf(target: AppDatabaseTarget): Promise<string | null> {
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
 * Cut-over activities over an AppRuntime. Inputs and results carry config names and host:port only;
 * the password is resolved here, by name, and written straight into the app's configuration.
 */
export function createAppRuntimeActivities(runtime: AppRuntime, targets: DatabaseTargetResolver) {
  return {
    async pointAppAtDatabase(input: PointAppAtDatabaseInput): Promise<PointAppResult> {
      return runtime.pointAppAt(resolve(targets, input.database));
    },

    async rollbackAppDatabasePointer(): Promise<PointAppResult> {
      return runtime.rollbackAppPointer();
    },

    async restartApp(): Promise<RestartResult> {
      return runtime.restart();
    },

    async scaleApp(input: { replicas: number }): Promise<{ replicas: number }> {
      return runtime.scale(input.replicas);
    },

    async waitUntilAppHealthy(input: WaitUntilAppHealthyInput): Promise<AppHealth> {
      const target = resolve(targets, input.database);
      const context = Context.current();
      const systemIdentifier = await systemIdentifierOf(target);
      try {
        return await runtime.waitHealthy({
          expect: { address: `${target.host}:${target.port}`, database: target.database, systemIdentifier },
          timeoutMs: (input.timeoutSeconds ?? 120) * 1000,
          intervalMs: (input.pollIntervalSeconds ?? 1) * 1000,
          onPoll: (attempt, lastAnswer) => context.heartbeat({ attempt, lastAnswer }),
          signal: context.cancellationSignal,
        });
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
