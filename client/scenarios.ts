import type { z } from 'zod';
import { startableWorkflows } from '../workflows/scenarios';

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
 * One startable scenario as the CLI knows it: the workflows' own entry (workflow type, input schema,
 * description, kind; workflows/scenarios.ts) plus the flags that fill its fields.
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

/** The CLI's part of a scenario: its flags, and field values applied before the input file and the flags. */
type CliPart = Pick<ScenarioEntry, 'flags' | 'defaults'>;

const cli: Record<string, CliPart> = {
  assess: {
    defaults: { database: 'production' },
    flags: [
      { flag: '--database <name>', field: 'database', description: 'database name from the worker config (default production)' },
      { flag: '--incident <id>', field: 'incidentId', description: 'incident id to file the run under' },
      { flag: '--environment <name>', field: 'environment', description: 'environment from the worker config (default local)' },
    ],
  },
  'accidental-deletion': {
    flags: [
      ...runbookFlags,
      { flag: '--target-time <iso>', field: 'targetTime', description: 'a time just before the deletion (ISO 8601 with a zone)' },
      { flag: '--resolution <how>', field: 'resolution', description: 'repair (default: copy the lost rows back, keep later writes) or cutover' },
      { flag: '--database <name>', field: 'database', description: 'the production database (default production)' },
      { flag: '--tables <list>', field: 'tables', description: 'comma-separated tables to compare and repair', parse: (v) => v.split(',').map((t) => t.trim()).filter(Boolean) },
    ],
  },
  'region-outage': {
    flags: [
      ...runbookFlags,
      { flag: '--replica <id>', field: 'replica', description: 'the cross-region replica to promote (platform instance id)' },
      { flag: '--dns-name <name>', field: 'dnsName', description: 'the name the application resolves its database through (default db.mita.internal)' },
    ],
  },
  'failed-migration': {
    flags: [
      ...runbookFlags,
      { flag: '--to-version <version>', field: 'toVersion', description: 'the previous stable schema version, e.g. 0001' },
      { flag: '--migration-started-at <iso>', field: 'migrationStartedAt', description: 'when the failed migration started (the fallback restores to just before it)' },
      { flag: '--database <name>', field: 'database', description: 'the production database (default production)' },
    ],
  },
  'server-failure': {
    flags: [
      ...runbookFlags,
      { flag: '--replica <id>', field: 'replica', description: 'the standby to promote (platform instance id)' },
      { flag: '--checks <n>', field: 'checks', description: 'failed checks that confirm the failure (default 3)', parse: Number },
      { flag: '--check-interval <seconds>', field: 'checkIntervalSeconds', description: 'seconds between checks (default 20)', parse: Number },
      { flag: '--database <name>', field: 'database', description: 'the production database (default production)' },
    ],
  },
  cache: {
    flags: [
      ...runbookFlags,
      { flag: '--kind <kind>', field: 'kind', description: 'rdb (default) or aof: restore into a new instance and cut over; sessions: write the session export into the running cache' },
      { flag: '--cache <id>', field: 'cache', description: 'the cache the application uses (platform instance id, default production)' },
      { flag: '--backup <id>', field: 'backupId', description: 'the backup to restore (default: the newest of the kind)' },
      { flag: '--as-of <iso>', field: 'asOf', description: 'restore the newest backup taken at or before this time' },
      { flag: '--sessions-backup <id>', field: 'sessionsBackupId', description: 'rdb/aof: also write this session export into the new instance' },
      { flag: '--failed-at <iso>', field: 'failedAt', description: 'when the cache was lost (the RPO is measured against it)' },
    ],
  },
  files: {
    flags: [
      ...runbookFlags,
      { flag: '--archives <list>', field: 'archives', description: 'comma-separated archive kinds, e.g. documents,configs (default: every configured kind)', parse: (v) => v.split(',').map((t) => t.trim()).filter(Boolean) },
      { flag: '--as-of <iso>', field: 'asOf', description: 'restore the backups finished at or before this time' },
      { flag: '--failed-at <iso>', field: 'failedAt', description: 'when the files were lost (the RPO is measured against it)' },
    ],
  },
  'complete-system-failure': {
    flags: [
      ...runbookFlags,
      { flag: '--failed-at <iso>', field: 'failedAt', description: 'when everything went down (every part\'s RPO is measured against it)' },
      { flag: '--as-of <iso>', field: 'asOf', description: 'the backup generation: the newest backup of each part at or before this time' },
      { flag: '--database <name>', field: 'database', description: 'the production database (default production)' },
      { flag: '--replica <id>', field: 'replica', description: 'a standby to promote if its lag is within the RPO' },
      { flag: '--checks <n>', field: 'checks', description: 'failed checks that confirm the database is down (default 3)', parse: Number },
      { flag: '--check-interval <seconds>', field: 'checkIntervalSeconds', description: 'seconds between checks (default 10)', parse: Number },
      { flag: '--cache <id>', field: 'cache', description: 'the cache the application used (default production)' },
      { flag: '--cache-backup <kind>', field: 'cacheBackup', description: 'rdb (default) or aof' },
      { flag: '--archives <list>', field: 'archives', description: 'comma-separated archive kinds (default: every configured kind)', parse: (v) => v.split(',').map((t) => t.trim()).filter(Boolean) },
    ],
  },
  drill: {
    flags: [
      { flag: '--scenario <name>', field: 'scenario', description: 'the scenario to drill' },
      { flag: '--as <name>', field: 'startedBy', description: 'who starts the drill' },
    ],
  },
};

/**
 * Every scenario `dr start` knows: each startable workflow of workflows/scenarios.ts with its flags here.
 * A workflow without flags here is still startable, with --input.
 */
export const scenarios: ScenarioEntry[] = Object.entries(startableWorkflows).map(([name, workflow]) => ({
  name,
  workflowType: workflow.workflowType,
  description: workflow.description,
  input: workflow.input,
  kind: workflow.kind,
  flags: cli[name]?.flags ?? [],
  ...(cli[name]?.defaults ? { defaults: cli[name].defaults } : {}),
}));

export function findScenario(name: string, table: ScenarioEntry[] = scenarios): ScenarioEntry | undefined {
  return table.find((s) => s.name === name);
}

/** "--incident" for incidentId, so an error can name the flag beside the field. */
export function flagFor(entry: ScenarioEntry, field: string): string | undefined {
  return entry.flags.find((f) => f.field === field)?.flag.split(/[\s,]/)[0];
}
