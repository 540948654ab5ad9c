import type { ObjectStore } from '../ports/object-store';
import type { SchemaFingerprint } from './schema-fingerprint';
import type { TableFigures } from './measure';
import type { TableSegments } from './block-segments';
import type { WalAnchor } from './wal-anchor';

// A baseline: what a backup holds, measured on that backup restored to its consistent point, kept in
// the object store beside the backup's verdict (verified, restored, consistent) so a runbook can find
// the last known good one at or before its recovery target.

/** The backup a baseline describes, as the platform reported it (a pgBackRest backup set, an RDS snapshot). */
export interface BaselineBackup {
  label: string;
  type?: string;
  startedAt: string;
  stoppedAt: string;
  lsnStart?: string;
  lsnStop?: string;
}

export interface Baseline {
  /** 3: each history names its row hash (history.rowHash); 2: md5 of the row text throughout. */
  formatVersion: 2 | 3;
  /** The database the backup is of (a config name, e.g. production). */
  database: string;
  /** The instance the figures were read from: the backup restored to its consistent point. */
  measuredOn: string;
  backup: BaselineBackup;
  /**
   * The backup's consistent point, at least: the newest commit the restore replayed, or the backup's
   * start when it replayed none. Every figure describes the data as of this point.
   */
  consistentAt: string;
  /** consistentAt − clock skew − the longest transaction: rows created up to here are all in the backup. */
  historyUpTo: string;
  settings: { clockSkewSeconds: number; longestTransactionSeconds: number };
  schema: SchemaFingerprint;
  tables: Record<string, TableFigures>;
  measuredAt: string;
  /**
   * Where the copy sits in the WAL and every table's totals by block segment, for checking a standby of
   * the same primary incrementally. Versioned on its own: a baseline without it (or with a format this
   * worker does not read) is checked by the full gate.
   */
  incremental?: IncrementalBaseline;
}

export interface IncrementalBaseline {
  formatVersion: 1;
  anchor: WalAnchor;
  tables: Record<string, TableSegments>;
}

/** Whether a backup and its baseline can be trusted: the stanza verified, the backup restored, the copy consistent. */
export interface BaselineVerdict {
  formatVersion: 1;
  database: string;
  backupLabel: string;
  baselineKey?: string;
  backup: BaselineBackup;
  consistentAt?: string;
  historyUpTo?: string;
  verification: { ok: boolean; report: string };
  /** The restored copy's own checks (ledger, ownership, keys, schema): a corrupt backup is no baseline. */
  checks?: { passed: boolean; failed: string[] };
  good: boolean;
  /** Why it is not good, in words. */
  reason?: string;
  /** The backup's restore test, in the shape the backup-validation metric reads (absent in verdicts from before it). */
  restoreTest?: RestoreTestResult;
  recordedAt: string;
  workflowId?: string;
}

/**
 * A backup's restore test: restored into a new instance, measured, and checked against its own baseline
 * with the gate's checks. `passed` is the verdict's `good`; what the backup_validation_success metric
 * (the monitoring's backup-validation hook) is set from.
 */
export interface RestoreTestResult {
  backupLabel: string;
  passed: boolean;
  /** Where it failed: verify, restore, measure (its copy could not be read) or checks. */
  failedAt?: 'verify' | 'restore' | 'measure' | 'checks';
  /** How long the restore into the copy took. */
  restoreSeconds?: number;
  /** The gate's checks the copy failed, as report lines. */
  failedChecks: string[];
}

const labelPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

function assertNames(database: string, backupLabel: string): void {
  if (!labelPattern.test(backupLabel)) throw new Error(`backupLabel: "${backupLabel}" must be letters, digits, '.', '_', ':' or '-' (a pgBackRest label or snapshot id)`);
  if (!labelPattern.test(database)) throw new Error(`database: "${database}" is not a config name`);
}

/** Where a backup's baseline lives in the ObjectStore. Throws on a label that could escape its folder. */
export function baselineKey(database: string, backupLabel: string): string {
  assertNames(database, backupLabel);
  return `baselines/${database}/${backupLabel}.json`;
}

/**
 * Where a backup's verdict lives: under the backup's end time, so the keys list in the order the backups
 * ended (whatever the platform's labels look like) and a look-up reads one or two verdicts, not all.
 */
export function verdictKey(database: string, backupLabel: string, stoppedAt: string): string {
  assertNames(database, backupLabel);
  return `${verdictPrefix(database)}${new Date(stoppedAt).toISOString()}_${backupLabel}.json`;
}

const verdictPrefix = (database: string) => `baselines/${database}/verdicts/`;
/** The backup's end from a verdict key (the ISO instant before the first "_"). */
const stoppedAtOf = (key: string) => key.slice(key.lastIndexOf('/') + 1).split('_')[0]!;

export async function saveBaseline(store: ObjectStore, key: string, baseline: Baseline): Promise<void> {
  await store.put(key, JSON.stringify(baseline) + '\n', 'application/json');
}

export async function loadBaseline(store: ObjectStore, key: string): Promise<Baseline | undefined> {
  const body = await store.get(key);
  if (!body) return undefined;
  const baseline = JSON.parse(body.toString('utf8')) as Baseline;
  if (baseline.formatVersion !== 2 && baseline.formatVersion !== 3) throw new Error(`baseline ${key} has format ${String(baseline.formatVersion)}; this worker reads formats 2 and 3 (take a new one with backupWithBaseline)`);
  return baseline;
}

/** The stored verdict on a baseline's backup, or undefined when there is none. */
export async function loadVerdictOf(store: ObjectStore, baseline: Baseline): Promise<BaselineVerdict | undefined> {
  const body = await store.get(verdictKey(baseline.database, baseline.backup.label, baseline.backup.stoppedAt));
  return body ? (JSON.parse(body.toString('utf8')) as BaselineVerdict) : undefined;
}

export async function saveVerdict(store: ObjectStore, verdict: BaselineVerdict): Promise<string> {
  const key = verdictKey(verdict.database, verdict.backupLabel, verdict.backup.stoppedAt);
  await store.put(key, JSON.stringify(verdict, null, 2) + '\n', 'application/json');
  return key;
}

export type BaselineLookup =
  | { found: true; baselineKey: string; backupLabel: string; consistentAt: string; historyUpTo: string; stoppedAt: string }
  | { found: false; reason: string };

/**
 * The last known good baseline of `database` whose backup ended at or before `at`: the verdicts are read
 * newest first from there, and the first good one is it. Without one, why, in words.
 */
export async function findLastGoodBaseline(store: ObjectStore, database: string, at: string): Promise<BaselineLookup> {
  const atMs = Date.parse(at);
  const keys = (await store.list(verdictPrefix(database))).filter((k) => k.endsWith('.json'));
  const candidates = keys.filter((k) => Date.parse(stoppedAtOf(k)) <= atMs).reverse();
  const notGood: string[] = [];
  for (const key of candidates) {
    const body = await store.get(key);
    if (!body) continue;
    const verdict = JSON.parse(body.toString('utf8')) as BaselineVerdict;
    if (verdict.good && verdict.baselineKey && verdict.consistentAt && verdict.historyUpTo) {
      return { found: true, baselineKey: verdict.baselineKey, backupLabel: verdict.backupLabel, consistentAt: verdict.consistentAt, historyUpTo: verdict.historyUpTo, stoppedAt: verdict.backup.stoppedAt };
    }
    notGood.push(verdict.backupLabel);
  }
  const later = keys.length - candidates.length;
  const counted = [`${keys.length} backup verdict${keys.length === 1 ? '' : 's'} stored`, ...(notGood.length ? [`${notGood.length} not good`] : []), ...(later ? [`${later} only after ${at}`] : [])];
  return { found: false, reason: `no known good baseline of ${database} from a backup that ended at or before ${at} (${counted.join(', ')}; backupWithBaseline takes one with every backup)` };
}
