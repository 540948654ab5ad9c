/**
 * MigrationTool port: the application's schema migrations, as the failed-migration runbook sees them.
 * The local adapter reads a directory of versioned up/down SQL files and a `schema_migrations` table;
 * another tool (Flyway, Alembic, …) would be another adapter.
 */
export interface AppliedMigration {
  version: string;
  name: string;
  appliedAt: string;
}

export interface AvailableMigration {
  version: string;
  name: string;
  /** A migration without a down script cannot be rolled back: the runbook must restore instead. */
  reversible: boolean;
}

export interface MigrationStatus {
  /** The newest applied version, or null on an empty schema. */
  current: string | null;
  applied: AppliedMigration[];
  available: AvailableMigration[];
}

export interface RollbackPlan {
  from: string | null;
  to: string;
  /** Versions to undo, newest first. */
  steps: Array<{ version: string; name: string }>;
  /** Why the rollback cannot be done (a missing down script, an unknown target); empty when it can. */
  blockers: string[];
}

export interface MigrationTool {
  status(): Promise<MigrationStatus>;
  planRollback(toVersion: string): Promise<RollbackPlan>;
  /** Runs the down scripts of the plan in ONE transaction: either every step is undone or none is. */
  rollback(toVersion: string): Promise<RollbackPlan>;
  /** Applies up scripts to reach `toVersion` (in one transaction); used to set up and by the demo. */
  migrate(toVersion?: string): Promise<string[]>;
}
