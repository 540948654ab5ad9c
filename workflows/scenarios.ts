import { z } from 'zod';
import { assessDatabaseHealthInput } from './assess-database-health';
import { recoverFromAccidentalDeletionInput } from './recover-from-accidental-deletion';
import { recoverFromRegionOutageInput } from './recover-from-region-outage';
import { recoverFromFailedMigrationInput } from './recover-from-failed-migration';
import { recoverFromServerFailureInput } from './recover-from-server-failure';
import { recoverCacheInput } from './recover-cache';
import { recoverFilesInput } from './recover-files';
import { recoverFromCompleteSystemFailureInput } from './recover-from-complete-system-failure';

/** One thing a person can start: its workflow type, its input schema (the one the workflow validates with), a line on what it does. */
export interface StartableWorkflow {
  workflowType: string;
  input: z.ZodType;
  description: string;
  /**
   * A runbook (runRunbook: status query, gates, abort, report) is started with its Web UI summary and an
   * id of scenario + incident; anything else is a plain workflow.
   */
  kind: 'runbook' | 'workflow';
}

/**
 * Every scenario a commander or a drill can run. One entry per scenario; `runDrill` runs them, and the
 * `dr` CLI starts them (adding only its flags, client/scenarios.ts).
 */
export const scenarios = {
  'accidental-deletion': {
    workflowType: 'recoverFromAccidentalDeletion',
    input: recoverFromAccidentalDeletionInput,
    kind: 'runbook',
    description: 'point-in-time restore to a new instance just before the deletion, validate, approve, then repair (copy the lost rows back) or cut over',
  },
  'region-outage': {
    workflowType: 'recoverFromRegionOutage',
    input: recoverFromRegionOutageInput,
    kind: 'runbook',
    description: 'promote the cross-region replica, scale up the standby application, approve, switch DNS, verify',
  },
  'failed-migration': {
    workflowType: 'recoverFromFailedMigration',
    input: recoverFromFailedMigrationInput,
    kind: 'runbook',
    description: 'safety backup, approve, roll back with the down migrations, checks; else a point-in-time restore to before the migration and a cutover',
  },
  'server-failure': {
    workflowType: 'recoverFromServerFailure',
    input: recoverFromServerFailureInput,
    kind: 'runbook',
    description: 'confirm the failure over a window of checks, promote the standby (lag within the RPO) or restore the latest backup, validate, approve, cut the app over',
  },
  cache: {
    workflowType: 'recoverCache',
    input: recoverCacheInput,
    kind: 'runbook',
    description: 'restore an RDB or AOF backup of Redis into a new instance, verify key counts and sampled keys, approve, cut the app\'s cache over; or write the session export back with its TTLs',
  },
  files: {
    workflowType: 'recoverFiles',
    input: recoverFilesInput,
    kind: 'runbook',
    description: 'stage the encrypted documents, configs and code archives, verify every file against the manifest, approve, move into place, confirm',
  },
  'complete-system-failure': {
    workflowType: 'recoverFromCompleteSystemFailure',
    input: recoverFromCompleteSystemFailureInput,
    kind: 'runbook',
    description: 'readiness checklist, then the database, Redis and the files at once as child runbooks, each validated, one gate, the app pointed at all of them and checked; RTO and RPO per tier',
  },
} as const satisfies Record<string, StartableWorkflow & { kind: 'runbook' }>;

export type ScenarioName = keyof typeof scenarios;
export const scenarioNames = Object.keys(scenarios) as ScenarioName[];

/** runDrill's input: the scenario, who (or which schedule) starts it, and any of the scenario's own fields. */
export const runDrillInput = z.looseObject({
  scenario: z.enum(scenarioNames as [ScenarioName, ...ScenarioName[]], { error: `must be one of: ${scenarioNames.join(', ')}` }),
  startedBy: z.string().trim().min(1, 'must name who (or which schedule) starts the drill'),
});
export type RunDrillInput = z.input<typeof runDrillInput> & Record<string, unknown>;

/** Everything startable by name (`dr start <name>`): the first step of every runbook, each scenario, a drill. */
export const startableWorkflows: Record<string, StartableWorkflow> = {
  assess: {
    workflowType: 'assessDatabaseHealth',
    input: assessDatabaseHealthInput,
    kind: 'workflow',
    description: 'assess a database: connectivity and the critical integrity totals (the first step of every runbook)',
  },
  ...scenarios,
  drill: {
    workflowType: 'runDrill',
    input: runDrillInput,
    kind: 'workflow',
    description: 'run a scenario as a drill: isolated targets, measured against the objectives, always cleaned up',
  },
};
