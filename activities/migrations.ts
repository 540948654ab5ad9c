import { ApplicationFailure } from '@temporalio/common';
import type { MigrationStatus, MigrationTool, RollbackPlan } from './ports/migration-tool';
import { FailureType } from '../contracts/failure-types';

/** Resolves the migration tool of a configured database, by name. */
export type MigrationToolDirectory = (database: string) => Promise<MigrationTool>;

/** The failed-migration runbook's view of the application's schema version. */
export function createMigrationActivities(tools: MigrationToolDirectory) {
  return {
    async readMigrationStatus(input: { database: string }): Promise<MigrationStatus> {
      return (await tools(input.database)).status();
    },
    /** Checks, without changing anything, whether a rollback to the version is possible. */
    async planMigrationRollback(input: { database: string; toVersion: string }): Promise<RollbackPlan> {
      return (await tools(input.database)).planRollback(input.toVersion);
    },
    /**
     * Runs the down migrations to the version, all in one transaction. A rollback that cannot be done
     * is a non-retryable `RollbackImpossible`, so the runbook falls back to point-in-time restore.
     */
    async rollBackMigrations(input: { database: string; toVersion: string }): Promise<RollbackPlan> {
      const tool = await tools(input.database);
      const plan = await tool.planRollback(input.toVersion);
      if (plan.blockers.length) {
        throw ApplicationFailure.create({ type: FailureType.RollbackImpossible, message: `cannot roll back ${input.database} to ${input.toVersion}: ${plan.blockers.join('; ')}`, nonRetryable: true, details: [plan] });
      }
      try {
        return await tool.rollback(input.toVersion);
      } catch (error) {
        // The transaction was rolled back, so nothing changed; retrying the same SQL would fail the same way.
        throw ApplicationFailure.create({ type: FailureType.RollbackImpossible, message: `rollback of ${input.database} to ${input.toVersion} failed and was undone: ${(error as Error).message}`, nonRetryable: true });
      }
    },
  };
}
