import type { z } from 'zod';
import { assessDatabaseHealthInput } from '../workflows/assess-database-health';
import { recoverFromAccidentalDeletionInput } from '../workflows/recover-from-accidental-deletion';
import { recoverFromRegionOutageInput } from '../workflows/recover-from-region-outage';
import { recoverFromFailedMigrationInput } from '../workflows/recover-from-failed-migration';
import { recoverFromServerFailureInput } from '../workflows/recover-from-server-failure';
import { runDrillInput } from '../workflows/run-drill';

/** A command-line flag that fills one input field, e.g. `--incident <id>` → incidentId. */
export interface FlagMapping {
  /** Commander syntax, e.g. "--incident <id>" or "--skip-gate" (a boolean flag). */
  flag: string;
  /** The input field it sets (top-level). */
  field: string;
  description: string;
  /** Turns the flag's text into the field's value (numbers, lists); default: the text as given. */
  parse?: (value: string) => unknown;
}

/**
 * One startable scenario. To add one, append an entry to `scenarios` below: the workflow type, its zod
 * input schema (the one the workflow itself validates with) and the flags that fill its fields.
 */
export interface ScenarioEntry {
  /** What people type: `dr start <name>`. */
  name: string;
  workflowType: string;
  description: string;
  input: z.ZodType;
  flags: FlagMapping[];
  /**
   * A runbook (runRunbook: status query, gates, abort, report) is started with its Web UI summary and an
   * id of scenario + incident; anything else is a plain workflow started as `<name>-<uuid>`.
   */
  kind: 'runbook' | 'workflow';
  /** Field values applied before the input file and the flags (which win over them). */
  defaults?: Record<string, unknown>;
}

/** The flags every runbook takes (runbookFields in workflows/inputs.ts). Spread them into a runbook's flags. */
export const runbookFlags: FlagMapping[] = [
  { flag: '--incident <id>', field: 'incidentId', description: 'incident id, e.g. INC-2041' },
  { flag: '--as <name>', field: 'startedBy', description: 'who starts the runbook (the two-person rule keeps them from approving it)' },
  { flag: '--environment <name>', field: 'environment', description: 'environment from the worker config (default local)' },
  { flag: '--mode <mode>', field: 'mode', description: 'real or drill (a drill never touches production)' },
  { flag: '--declared-at <iso>', field: 'declaredAt', description: 'when the incident was declared; the RTO clock starts here' },
];

/** Every scenario `dr start` knows. One entry per workflow; nothing else needs to change to add one. */
export const scenarios: ScenarioEntry[] = [
  {
    name: 'assess',
    workflowType: 'assessDatabaseHealth',
    description: 'assess a database: connectivity and the critical integrity totals (the first step of every runbook)',
    input: assessDatabaseHealthInput,
    kind: 'workflow',
    defaults: { database: 'production' },
    flags: [
      { flag: '--database <name>', field: 'database', description: 'database name from the worker config (default production)' },
      { flag: '--incident <id>', field: 'incidentId', description: 'incident id to file the run under' },
      { flag: '--environment <name>', field: 'environment', description: 'environment from the worker config (default local)' },
    ],
  },
  {
    name: 'accidental-deletion',
    workflowType: 'recoverFromAccidentalDeletion',
    description: 'point-in-time restore to a new instance just before the deletion, validate, approve, then repair (copy the lost rows back) or cut over',
    input: recoverFromAccidentalDeletionInput,
    kind: 'runbook',
    flags: [
      ...runbookFlags,
      { flag: '--target-time <iso>', field: 'targetTime', description: 'a time just before the deletion (ISO 8601 with a zone)' },
      { flag: '--resolution <how>', field: 'resolution', description: 'repair (default: copy the lost rows back, keep later writes) or cutover' },
      { flag: '--database <name>', field: 'database', description: 'the production database (default production)' },
      { flag: '--tables <list>', field: 'tables', description: 'comma-separated tables to compare and repair', parse: (v) => v.split(',').map((t) => t.trim()).filter(Boolean) },
    ],
  },
  {
    name: 'region-outage',
    workflowType: 'recoverFromRegionOutage',
    description: 'promote the cross-region replica, scale up the standby application, approve, switch DNS, verify',
    input: recoverFromRegionOutageInput,
    kind: 'runbook',
    flags: [
      ...runbookFlags,
      { flag: '--replica <id>', field: 'replica', description: 'the cross-region replica to promote (platform instance id)' },
      { flag: '--dns-name <name>', field: 'dnsName', description: 'the name the application resolves its database through (default db.mita.internal)' },
    ],
  },
  {
    name: 'failed-migration',
    workflowType: 'recoverFromFailedMigration',
    description: 'safety backup, approve, roll back with the down migrations, checks; else a point-in-time restore to before the migration and a cutover',
    input: recoverFromFailedMigrationInput,
    kind: 'runbook',
    flags: [
      ...runbookFlags,
      { flag: '--to-version <version>', field: 'toVersion', description: 'the previous stable schema version, e.g. 0001' },
      { flag: '--migration-started-at <iso>', field: 'migrationStartedAt', description: 'when the failed migration started (the fallback restores to just before it)' },
      { flag: '--database <name>', field: 'database', description: 'the production database (default production)' },
    ],
  },
  {
    name: 'server-failure',
    workflowType: 'recoverFromServerFailure',
    description: 'confirm the failure over a window of checks, promote the standby (lag within the RPO) or restore the latest backup, validate, approve, cut the app over',
    input: recoverFromServerFailureInput,
    kind: 'runbook',
    flags: [
      ...runbookFlags,
      { flag: '--replica <id>', field: 'replica', description: 'the standby to promote (platform instance id)' },
      { flag: '--checks <n>', field: 'checks', description: 'failed checks that confirm the failure (default 3)', parse: Number },
      { flag: '--check-interval <seconds>', field: 'checkIntervalSeconds', description: 'seconds between checks (default 20)', parse: Number },
      { flag: '--database <name>', field: 'database', description: 'the production database (default production)' },
    ],
  },
  {
    name: 'drill',
    workflowType: 'runDrill',
    description: 'run a scenario as a drill: isolated targets, measured against the objectives, always cleaned up',
    input: runDrillInput,
    kind: 'workflow',
    flags: [
      { flag: '--scenario <name>', field: 'scenario', description: 'the scenario to drill' },
      { flag: '--as <name>', field: 'startedBy', description: 'who starts the drill' },
    ],
  },
];

export function findScenario(name: string, table: ScenarioEntry[] = scenarios): ScenarioEntry | undefined {
  return table.find((s) => s.name === name);
}

/** "--incident" for incidentId, so an error can name the flag beside the field. */
export function flagFor(entry: ScenarioEntry, field: string): string | undefined {
  return entry.flags.find((f) => f.field === field)?.flag.split(/[\s,]/)[0];
}
