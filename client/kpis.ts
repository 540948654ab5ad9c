import type { Client } from '@temporalio/client';
import { reportKeys } from '../activities/reports';
import type { ObjectStore } from '../activities/ports/object-store';
import { durationToMs } from '../contracts/durations';
import type { KpiInput, KpiRun, StatusCounts } from '../contracts/kpis';
import type { RunbookReportJson } from '../contracts/report';
import { DrEnvironment, DrScenario } from '../contracts/search-attributes';
import { quoted, readClosedRunbookResult } from './runbooks';

/** The restore test of every new backup (issue 13): it takes the backup, restores it and validates it against its own baseline. */
export const BACKUP_RESTORE_TEST_WORKFLOW = 'backupWithBaseline';
/** Workflows that take backups; whether each took its backup set is the backup success rate. */
export const BACKUP_WORKFLOWS = [BACKUP_RESTORE_TEST_WORKFLOW] as const;

export interface KpiPeriod {
  since: Date;
  until: Date;
  environment?: string;
}

/**
 * A time as `--since` / `--until` take it: a duration back from now ("30d", "12h", "90 minutes") or an ISO
 * 8601 time. Throws naming the flag.
 */
export function parsePeriodBound(flag: string, value: string, now: Date): Date {
  const text = value.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const at = Date.parse(text);
    if (Number.isNaN(at)) throw new Error(`${flag}: "${value}" is not an ISO 8601 time`);
    return new Date(at);
  }
  let back: number;
  try {
    back = durationToMs(text);
  } catch {
    back = Number.NaN;
  }
  if (!Number.isFinite(back) || back < 0) throw new Error(`${flag}: "${value}" must be a duration back from now ("30d", "12h", "90 minutes") or an ISO 8601 time`);
  return new Date(now.getTime() - back);
}

/** Runbooks with a report: drills' wrappers (DrScenario "drill:…") and assessments have none of their own. */
const hasOwnReport = (scenario: string | undefined) => scenario !== undefined && !scenario.startsWith('drill:') && scenario !== 'assessment';

function closedWithin(period: KpiPeriod): string[] {
  return [`CloseTime >= ${quoted(period.since.toISOString())}`, `CloseTime <= ${quoted(period.until.toISOString())}`];
}

/** Runs before the backup workflow set DrEnvironment have none: a filtered KPI leaves them out. */
const inEnvironment = (period: KpiPeriod) => (period.environment ? [`DrEnvironment = ${quoted(period.environment)}`] : []);

async function readReport(store: Pick<ObjectStore, 'get'> | undefined, workflowId: string): Promise<RunbookReportJson | undefined> {
  const body = await store?.get(reportKeys(workflowId).json);
  if (!body) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as RunbookReportJson;
  } catch {
    return undefined;
  }
}

function runFromReport(report: RunbookReportJson, closedAt: string | undefined): KpiRun {
  const { rto, rpo } = report.objectives ?? {};
  return {
    workflowId: report.workflowId,
    scenario: report.scenario,
    environment: report.environment,
    incidentId: report.incidentId,
    mode: report.mode,
    verdict: report.verdict,
    ...(rto?.declaredAt ? { declaredAt: rto.declaredAt } : {}),
    ...(closedAt ? { closedAt } : {}),
    ...(rto ? { rto: { achievedSeconds: rto.achievedSeconds, objectiveSeconds: rto.objectiveSeconds, ...(rto.cutoverVerifiedAt ? { cutoverVerifiedAt: rto.cutoverVerifiedAt } : {}) } } : {}),
    ...(rpo ? { rpo: { achievedSeconds: rpo.achievedSeconds, objectiveSeconds: rpo.objectiveSeconds } } : {}),
  };
}

/** Closed runs of each type in the period (and its environment, when it names one) by status. */
async function countByStatus(client: Client, workflowTypes: readonly string[], period: KpiPeriod): Promise<Map<string, StatusCounts>> {
  const byType = new Map<string, StatusCounts>();
  for (const type of new Set(workflowTypes)) {
    const counts: StatusCounts = {};
    const { groups } = await client.workflow.count([`WorkflowType = ${quoted(type)}`, ...closedWithin(period), ...inEnvironment(period)].join(' AND ') + ' GROUP BY ExecutionStatus');
    for (const group of groups) {
      const status = String(group.groupValues[0]);
      counts[status] = (counts[status] ?? 0) + group.count;
    }
    byType.set(type, counts);
  }
  return byType;
}

function sumCounts(counts: Iterable<StatusCounts>): StatusCounts {
  const total: StatusCounts = {};
  for (const c of counts) for (const [status, n] of Object.entries(c)) total[status] = (total[status] ?? 0) + n;
  return total;
}

/** A listed run's status as visibility's counts name it: TIMED_OUT → TimedOut. */
const visibilityStatus = (name: string) => name.toLowerCase().split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');

/** The activity that takes the backup set; a run that completed it took its backup, whatever came after. */
const TAKE_BACKUP_ACTIVITY = 'takeDatabaseBackup';

async function tookItsBackup(client: Client, workflowId: string, runId: string | undefined): Promise<boolean> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const takes = new Set<string>();
  for (const event of history.events ?? []) {
    if (event.activityTaskScheduledEventAttributes?.activityType?.name === TAKE_BACKUP_ACTIVITY) takes.add(String(event.eventId));
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed && takes.has(String(completed.scheduledEventId))) return true;
  }
  return false;
}

/**
 * The backup workflows' closed runs by how their backup ended: Completed when the backup set was taken
 * (a run whose restore test then failed still took its backup: its history says so), else the run's own
 * status. Only the runs that did not complete are read, and they are few. `byType`: the closed runs' counts
 * of every type (each type is counted once, for this figure and the restore tests').
 */
async function countBackups(client: Client, period: KpiPeriod, byType: Map<string, StatusCounts>): Promise<StatusCounts> {
  const counts = sumCounts(BACKUP_WORKFLOWS.map((t) => byType.get(t) ?? {}));
  const types = BACKUP_WORKFLOWS.map((t) => `WorkflowType = ${quoted(t)}`).join(' OR ');
  const query = [`(${types})`, `ExecutionStatus != 'Completed'`, `ExecutionStatus != 'ContinuedAsNew'`, ...closedWithin(period), ...inEnvironment(period)].join(' AND ');
  for await (const w of client.workflow.list({ query })) {
    if (!(await tookItsBackup(client, w.workflowId, w.runId))) continue;
    const status = visibilityStatus(w.status.name);
    counts[status] = (counts[status] ?? 1) - 1;
    counts.Completed = (counts.Completed ?? 0) + 1;
  }
  return counts;
}

/**
 * What the KPIs are computed from: the runbooks that closed in the period (visibility, by their search
 * attributes), each read from its published report, else from its result (no history is replayed);
 * and the backup workflows' closed runs counted by status. `skipped` are runs with neither.
 */
export async function collectKpiInput(client: Client, store: Pick<ObjectStore, 'get'> | undefined, period: KpiPeriod, limit = 1000): Promise<KpiInput & { skipped: string[] }> {
  const clauses = ['DrScenario IS NOT NULL', ...closedWithin(period), ...inEnvironment(period)];
  const runs: KpiRun[] = [];
  const skipped: string[] = [];
  let seen = 0;
  for await (const w of client.workflow.list({ query: clauses.join(' AND ') })) {
    if (++seen > limit) break;
    if (!hasOwnReport(w.typedSearchAttributes.get(DrScenario))) continue;
    const closedAt = w.closeTime?.toISOString();
    const report = await readReport(store, w.workflowId);
    if (report) {
      runs.push(runFromReport(report, closedAt));
      continue;
    }
    const result = await readClosedRunbookResult(client, w.workflowId, w.runId);
    if (!result) {
      skipped.push(w.workflowId);
      continue;
    }
    runs.push({
      workflowId: w.workflowId,
      scenario: result.scenario,
      environment: result.environment ?? w.typedSearchAttributes.get(DrEnvironment) ?? '',
      incidentId: result.incidentId,
      mode: result.mode,
      verdict: result.verdict,
      declaredAt: result.rto.declaredAt,
      ...(closedAt ? { closedAt } : {}),
      rto: { achievedSeconds: result.rto.elapsedSeconds, objectiveSeconds: result.rto.objectiveSeconds, ...(result.rto.cutoverVerifiedAt ? { cutoverVerifiedAt: result.rto.cutoverVerifiedAt } : {}) },
      rpo: { achievedSeconds: result.rpo.achievedSeconds, objectiveSeconds: result.rpo.objectiveSeconds },
    });
  }
  const byType = await countByStatus(client, [BACKUP_RESTORE_TEST_WORKFLOW, ...BACKUP_WORKFLOWS], period);
  const recoveryTests = byType.get(BACKUP_RESTORE_TEST_WORKFLOW) ?? {};
  const backups = await countBackups(client, period, byType);
  return { since: period.since.toISOString(), until: period.until.toISOString(), ...(period.environment ? { environment: period.environment } : {}), runs, recoveryTests, backups, skipped };
}
