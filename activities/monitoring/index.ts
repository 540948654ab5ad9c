import type { DatabaseDirectory } from '../database-connections';
import { createDatabaseProbeActivities } from '../database-probe';
import type { DatabasePlatform } from '../ports/database-platform';
import type { OperationsMetrics } from '../ports/operations-metrics';
import { createReplicaLagActivities } from '../replica-lag';
import { readIntegrityTotals } from '../seed-integrity-query';
import { builtInChecks, resolveDeclaration } from '../validation/built-in-checks';
import { clockSkewSeconds, type ApplicationDeclaration } from '../validation/declaration';
import { runChecks } from '../validation/checks';
import { listForeignKeys } from '../validation/schema-catalog';
import { readOnly } from './read-only';
import { readWalArchiveState } from './wal-archive';

/**
 * What the worker watches between runbooks, for the metrics the alert rules read (config/alerts/METRICS.md):
 * can it reach each application database (seed 000's postgres_up), do the live figures hold together
 * (financial_integrity_check), how old is the newest good backup, how far behind are the WAL archive and
 * the replicas. Each measurement is one call; the worker decides how often (worker/metrics.ts). A
 * measurement that cannot be made now removes its series instead of leaving the last value standing.
 */
export interface MonitoringSettings {
  /** Application databases, by config name: probed, integrity-checked, their WAL archive and backups measured. */
  databases: string[];
  probeTimeoutMs: number;
  /** Per integrity check (statement timeout). */
  integrityTimeoutMs: number;
  /** The objective for the newest good backup's age. */
  backupMaxAgeSeconds: number;
  rpoObjectiveSeconds: number;
  /** Replicas by platform instance name, each with the database it follows. */
  replicas: Array<{ replica: string; database: string }>;
}

export interface MonitoringDependencies {
  databases: DatabaseDirectory;
  platform: DatabasePlatform;
  metrics: OperationsMetrics;
  settings: MonitoringSettings;
  /** The application's declaration (config `application`): which ledgers the integrity check recomputes. */
  application?: ApplicationDeclaration;
  /** Why a measurement could not be made (the worker logs it); never a connection string. */
  onProblem?: (what: string, error: unknown) => void;
}

export interface BackupValidationResult {
  backupLabel: string;
  passed: boolean;
}

export type Monitoring = ReturnType<typeof createMonitoring>;

/**
 * The integrity checks that hold on a live database without a baseline (the validation gate's built-in
 * checks by id): no orphaned records, every foreign key validated and enforced, every account balance
 * equal to the sum of its transactions. Counts against a baseline and recency belong to a recovery.
 */
const liveIntegrityCheck = (id: string) => id.startsWith('ledger:') || id.startsWith('orphans:') || id.startsWith('foreign-key-enforced:');

/** SQLSTATE class 42 (undefined table or column, no privilege): the schema the checks read is not there. */
const schemaIsGone = (error: unknown) => typeof (error as { code?: unknown }).code === 'string' && (error as { code: string }).code.startsWith('42');

export function createMonitoring(deps: MonitoringDependencies) {
  const { databases, platform, metrics, settings } = deps;
  const problem = deps.onProblem ?? (() => undefined);
  const { probeDatabase } = createDatabaseProbeActivities(databases);
  const { measureReplicaLag } = createReplicaLagActivities(databases);
  /** Restore-test verdicts per database and backup label, as backupWithBaseline reports them. */
  const validations = new Map<string, Map<string, boolean>>();

  /** A backup set whose restore test failed is never "good". */
  const failedItsTest = (database: string, label: string) => validations.get(database)?.get(label) === false;

  return {
    failedItsTest,

    /** postgres_up of every application database: connect and SELECT 1 within the probe timeout. */
    async probeDatabases(): Promise<void> {
      await Promise.all(settings.databases.map(async (database) => {
        const probe = await probeDatabase({ database, timeoutSeconds: settings.probeTimeoutMs / 1000 });
        metrics.databaseUp(database, probe.reachable);
      }));
    },

    /**
     * financial_integrity_check: the seed's critical integrity query answers (user count, transaction
     * count, total amount), and the live checks pass. 0 when a check finds offending rows or the tables
     * the seed's query reads are gone; no series when the database cannot be asked (postgres_up says so).
     */
    async checkIntegrity(): Promise<void> {
      for (const database of settings.databases) {
        let passed: boolean | undefined;
        try {
          const pool = await databases.pool(database);
          await readOnly(pool, settings.integrityTimeoutMs, (client) => readIntegrityTotals(client));
          const app = deps.application;
          const { checks } = builtInChecks({
            foreignKeys: await listForeignKeys(pool),
            app,
            resolved: await resolveDeclaration(pool, app),
            rpoSeconds: 0,
            clockSkewSeconds: clockSkewSeconds(app),
            recency: false,
            notDatedAfter: 'now',
            timeoutMs: settings.integrityTimeoutMs,
          });
          const results = await runChecks(pool, checks.filter((c) => liveIntegrityCheck(c.id!)), { concurrency: 2 });
          const failed = results.filter((r) => r.verdict === 'fail');
          const errors = results.filter((r) => r.verdict === 'error');
          if (failed.length) problem(`integrity of ${database}`, new Error(failed.map((r) => `${r.name}: ${r.message}`).join('; ')));
          if (errors.length) problem(`integrity of ${database}`, new Error(errors.map((r) => `${r.name}: ${r.message}`).join('; ')));
          passed = failed.length ? false : errors.length ? undefined : true;
        } catch (error) {
          problem(`integrity of ${database}`, error);
          passed = schemaIsGone(error) ? false : undefined;
        }
        metrics.financialIntegrity(database, passed);
      }
    },

    /**
     * dr_wal_archive_lag_seconds: how long the oldest completed WAL segment has waited to be archived
     * (its .ready file), 0 when none waits. Not measured on a standby or with archiving off. Reading the
     * archive status directory needs superuser or pg_monitor.
     */
    async measureWalArchive(): Promise<void> {
      await Promise.all(settings.databases.map(async (database) => {
        let lagSeconds: number | undefined;
        try {
          const row = await readOnly(await databases.pool(database), settings.probeTimeoutMs, (client) => readWalArchiveState(client));
          if (row.archiving) lagSeconds = row.lagSeconds;
        } catch (error) {
          problem(`WAL archive of ${database}`, error);
        }
        metrics.walArchiveLag(database, lagSeconds === undefined ? undefined : { lagSeconds, rpoObjectiveSeconds: settings.rpoObjectiveSeconds });
      }));
    },

    /** dr_replica_lag_seconds: 0 when the replica has replayed all its primary wrote, else how old its newest replayed commit is. */
    async measureReplicas(): Promise<void> {
      await Promise.all(settings.replicas.map(async ({ replica, database }) => {
        let lagSeconds: number | undefined;
        try {
          const m = await measureReplicaLag({ instanceId: replica, database });
          if (m.lag.state === 'caught-up') lagSeconds = 0;
          else if (m.lag.state === 'behind' && m.newestReplayedCommitAt) lagSeconds = Math.max(0, (Date.parse(m.checkedAt) - Date.parse(m.newestReplayedCommitAt)) / 1000);
        } catch (error) {
          problem(`replica ${replica} of ${database}`, error);
        }
        metrics.replicaLag(database, replica, lagSeconds);
      }));
    },

    /**
     * dr_backup_newest_good_age_seconds: the newest backup set the platform lists whose restore test has
     * not failed (a backup that failed its test is never "good"; none at all is +Inf).
     */
    async measureBackups(): Promise<void> {
      await Promise.all(settings.databases.map(async (database) => {
        try {
          const good = (await platform.listBackups(database)).filter((b) => !failedItsTest(database, b.label));
          const newest = good.reduce<string | undefined>((latest, b) => (latest === undefined || Date.parse(b.stoppedAt) > Date.parse(latest) ? b.stoppedAt : latest), undefined);
          metrics.newestGoodBackup(database, { ...(newest ? { stoppedAt: newest } : {}), maxAgeSeconds: settings.backupMaxAgeSeconds });
        } catch (error) {
          problem(`backups of ${database}`, error);
          metrics.newestGoodBackup(database, undefined);
        }
      }));
    },

    /**
     * The result of a backup's restore test (backupWithBaseline calls this when it has validated a new
     * backup against its own baseline): sets backup_validation_success, and a failed backup set is no
     * longer counted as the newest good one.
     */
    backupValidated(database: string, result: BackupValidationResult): void {
      const verdicts = validations.get(database) ?? new Map<string, boolean>();
      verdicts.set(result.backupLabel, result.passed);
      validations.set(database, verdicts);
      metrics.backupValidation(database, result.passed);
    },
  };
}
