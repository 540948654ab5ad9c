import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { FailureType } from '../contracts/failure-types';
import type { RunbookTargets } from '../contracts/runbook-targets';
import { safeText } from '../contracts/safe-text';
import type { DatabasePlatform } from './ports/database-platform';
import type { MigrationTool } from './ports/migration-tool';

/** A database of the worker config as the check needs it: where it is (to see through a second name). */
export interface ConfiguredDatabase {
  host: string;
  port: number;
  database: string;
}

export interface RunbookTargetOptions {
  /** The worker config's databases, by name. */
  databases: Record<string, ConfiguredDatabase>;
  /** The DR tool's own databases (config audit.database): never a runbook's target. */
  controlDatabases: string[];
  platform: Pick<DatabasePlatform, 'describeInstance'>;
  /** A pool on a configured database, to list its tables (the worker's pools are looked up asynchronously). */
  pool(database: string): Pool | Promise<Pool>;
  migrations(database: string): Pick<MigrationTool, 'status'> | Promise<Pick<MigrationTool, 'status'>>;
}

const list = (names: string[]) => names.map((n) => JSON.stringify(n)).join(', ') || 'none';

function unknown(field: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.UnknownTarget, nonRetryable: true, message: `${field}: ${message}; nothing was built` });
}

/**
 * Checks, before a runbook builds anything, that what its input names is there: each database is an
 * application database of the config (not the DR tool's own control or audit database, under whatever
 * name), each instance is known to the platform, each table exists, the migration version is one the
 * tool knows. A refusal names the field and lists the known values, so a typo is caught at the start
 * (a mistyped rollback target must not fall through to a restore and a cutover).
 */
export function createRunbookTargetActivities(options: RunbookTargetOptions) {
  const sameDatabase = (a: ConfiguredDatabase, b: ConfiguredDatabase) => a.port === b.port && a.database === b.database && (a.host === b.host || [a.host, b.host].every((h) => ['127.0.0.1', 'localhost', '::1'].includes(h)));
  const control = options.controlDatabases.filter((name) => options.databases[name]);
  const applicationDatabases = Object.keys(options.databases).filter((name) => !control.includes(name) && !control.some((c) => sameDatabase(options.databases[name]!, options.databases[c]!)));

  function checkDatabase(field: string, name: string): void {
    const config = options.databases[name];
    if (!config) throw unknown(field, `${JSON.stringify(safeText(name, 64))} is not a database of this worker's config (application databases: ${list(applicationDatabases)})`);
    const controlled = control.find((c) => c === name || sameDatabase(config, options.databases[c]!));
    if (controlled) throw unknown(field, `${JSON.stringify(name)} is ${controlled === name ? '' : `the same database as "${controlled}", `}the DR tool's own audit database, never a runbook's target (application databases: ${list(applicationDatabases)})`);
  }

  return {
    async checkRunbookTargets(input: { scenario: string; targets: RunbookTargets }): Promise<{ checked: string[] }> {
      const { targets } = input;
      const checked: string[] = [];
      for (const { field, name } of targets.databases ?? []) {
        checkDatabase(field, name);
        checked.push(`${field} ${name}`);
      }
      for (const { field, instanceId } of targets.instances ?? []) {
        try {
          await options.platform.describeInstance(instanceId);
        } catch (error) {
          // The platform's own words list what it knows ("does not exist (known: production, standby)").
          throw unknown(field, `${JSON.stringify(safeText(instanceId, 64))} is not an instance of the database platform: ${safeText((error as Error).message, 500)}`);
        }
        checked.push(`${field} ${instanceId}`);
      }
      if (targets.tables) {
        const { field, database, names } = targets.tables;
        checkDatabase('database', database);
        const { rows } = await (await options.pool(database)).query<{ name: string }>(
          `SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' AND pg_table_is_visible(c.oid) ORDER BY 1`,
        );
        const known = rows.map((r) => r.name);
        const missing = names.filter((n) => !known.includes(n));
        if (missing.length) throw unknown(field, `${list(missing.map((m) => safeText(m, 64)))} ${missing.length === 1 ? 'is not a table' : 'are not tables'} of ${database} (its tables: ${list(known)})`);
        checked.push(`${field} ${names.join(', ')}`);
      }
      if (targets.migrationVersion) {
        const { field, database, version } = targets.migrationVersion;
        checkDatabase('database', database);
        const status = await (await options.migrations(database)).status();
        const known = [...new Set([...status.applied.map((m) => m.version), ...status.available.map((m) => m.version)])].sort();
        if (!known.includes(version)) throw unknown(field, `${JSON.stringify(safeText(version, 64))} is not a migration version of ${database} (known versions: ${list(known)}; applied: ${status.current ?? 'none'})`);
        checked.push(`${field} ${version}`);
      }
      return { checked };
    },
  };
}

export type RunbookTargetActivities = ReturnType<typeof createRunbookTargetActivities>;
