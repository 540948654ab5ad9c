// What a runbook's input names that must exist before anything is built, and where in the input each
// name is (so the refusal names the field). The runner asks the worker to check them right after the plan.

export interface RunbookTargets {
  /** Config names of databases the runbook recovers or changes: application databases only. */
  databases?: Array<{ field: string; name: string }>;
  /** Platform instances the input names (a standby, a cross-region replica). */
  instances?: Array<{ field: string; instanceId: string }>;
  /** Tables of a database the runbook compares and repairs. */
  tables?: { field: string; database: string; names: string[] };
  /** A migration version the runbook rolls a database back to. */
  migrationVersion?: { field: string; database: string; version: string };
}
