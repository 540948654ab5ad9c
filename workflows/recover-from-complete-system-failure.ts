import { ApplicationFailure, CancellationScope, ChildWorkflowCancellationType, ParentClosePolicy, isCancellation, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import type { Activities, ApplicationChecks, PerformanceComparison, Readiness } from '../activities';
import { errorText } from '../contracts/error-text';
import { FailureType } from '../contracts/failure-types';
import { configName, isoInstant, runbookFields } from '../contracts/inputs';
import type { SystemSection, ValidationLine } from '../contracts/report';
import type { RecoveredSystem } from '../contracts/runbook-plan';
import type { RunbookResult } from '../contracts/runbook-status';
import { recoverCache } from './recover-cache';
import { confirmFileRestores, moveFileRestoresIntoPlace, recoverFiles, revertMoved } from './recover-files';
import { recoverFromServerFailure, recoverFromServerFailureInput } from './recover-from-server-failure';
import { platformId, secondsBetween, systemSection } from './recovered-systems';
import { runRunbook, type CompensationDefinition } from './runbook';
import { describeRestart, validationOperation, type ScenarioRunbook } from './scenario-steps';

const serverFailure = recoverFromServerFailureInput.shape;

export const recoverFromCompleteSystemFailureInput = z
  .strictObject({
    ...runbookFields,
    failedAt: isoInstant.optional().describe('when everything went down; every part\'s RPO is measured against it (default: declaredAt, else the start)'),
    asOf: isoInstant.optional().describe('the backup generation: the newest backup of each part at or before this time (default: the newest there is); the database replays its archived WAL to the end from it'),
    database: serverFailure.database,
    replica: serverFailure.replica,
    checks: serverFailure.checks,
    checkIntervalSeconds: z.number({ error: 'must be a number of seconds, e.g. 10' }).min(1, 'must be at least 1 second').max(600, 'must be at most 600 seconds').default(10).describe('time between two checks that confirm the database is down'),
    checkTimeoutSeconds: serverFailure.checkTimeoutSeconds,
    cache: configName.default('production').describe('the cache the application used, by its platform instance id'),
    cacheBackup: z.enum(['rdb', 'aof'], { error: 'must be "rdb" or "aof"' }).default('rdb').describe('which backup of the cache to restore into a new instance'),
    sessions: z.boolean().default(true).describe('also write the newest session export into the new cache instance'),
    archives: z.array(platformId('an archive kind from the worker config')).min(1, 'must name at least one archive kind').optional().describe('the file archive kinds to restore (default: every configured kind)'),
    benchmarks: z.boolean().default(true).describe('a short pgbench and redis-benchmark of the recovered systems, beside the figures captured at backup time'),
    baselineKey: platformId('a performance baseline name').default('production').describe('the performance baseline captured at backup time'),
    healthTimeoutSeconds: z.number().int().min(10, 'must be at least 10 seconds').max(3600, 'must be at most 3600 seconds').default(120),
  })
  .refine((i) => i.replica === undefined || i.replica !== i.database, { path: ['replica'], message: 'must be a standby, not the failed primary itself' })
  .refine((i) => new Set(i.archives ?? []).size === (i.archives ?? []).length, { path: ['archives'], message: 'names an archive kind twice' });
export type RecoverFromCompleteSystemFailureInput = z.input<typeof recoverFromCompleteSystemFailureInput>;
type CompleteFailureRunbook = ScenarioRunbook<z.output<typeof recoverFromCompleteSystemFailureInput>>;

type DatabaseOutput = Extract<NonNullable<Awaited<ReturnType<typeof recoverFromServerFailure>>['output']>, { handedOver: unknown }>;
type CacheOutput = Extract<NonNullable<Awaited<ReturnType<typeof recoverCache>>['output']>, { handedOver: unknown }>;
type FilesOutput = Extract<NonNullable<Awaited<ReturnType<typeof recoverFiles>>['output']>, { handedOver: unknown }>;

/** A part's child runbook, done: its result, and what it handed over. */
interface Part<O> {
  system: RecoveredSystem;
  workflowId: string;
  result: RunbookResult<O>;
  output: O;
}

function describeReadiness(r: Readiness): string {
  const failed = r.checks.filter((c) => !c.passed);
  const g = r.generation;
  const generation = [
    g.database && `database ${g.database.backupLabel}`,
    g.cache && `cache ${g.cache.kind} ${g.cache.backupId}`,
    g.sessions && `sessions ${g.sessions.backupId}`,
    ...Object.entries(g.files ?? {}).map(([kind, f]) => `${kind} ${f.backupId}`),
  ].filter(Boolean).join(', ');
  return `${r.ready ? 'ready' : 'NOT READY'}: ${r.checks.length - failed.length} of ${r.checks.length} checks passed${failed.length ? ` (${failed.map((c) => `${c.blocking ? '' : 'warning: '}${c.detail}`).join('; ')})` : ''}; generation: ${generation || 'none'}`;
}

/**
 * Runs the parts as child runbooks at once. They restore and validate, then hand over what they built
 * (adopted here, so whatever ends this runbook removes it). The first part that fails cancels the
 * others, which clean up after themselves before this runbook goes on; an abort or a cancellation of
 * this runbook cancels all of them the same way.
 */
async function recoverParts(rb: CompleteFailureRunbook, starts: Array<{ system: RecoveredSystem; name: string; run: (options: { workflowId: string; parentClosePolicy: ParentClosePolicy; cancellationType: ChildWorkflowCancellationType }) => Promise<RunbookResult<unknown>> }>) {
  const scope = new CancellationScope();
  const settled = await scope.run(() => Promise.all(starts.map(async (start) => {
    const workflowId = `${rb.workflowId}-${start.system}`;
    try {
      const result = await start.run({ workflowId, parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL, cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED });
      const output = result.output as { handedOver?: CompensationDefinition<Activities>[]; failover?: boolean; finding?: string } | undefined;
      if (output?.handedOver) rb.adopt(start.name, output.handedOver);
      if (result.verdict !== 'completed' || !output?.handedOver) {
        const why = output?.finding ?? `it ended ${result.verdict}${result.verdictDetail ? `: ${result.verdictDetail}` : ''}`;
        throw ApplicationFailure.create({ type: FailureType.PartNotRecovered, nonRetryable: true, message: `the ${start.system} was not recovered (${workflowId}): ${why}` });
      }
      return { ok: true as const, part: { system: start.system, workflowId, result, output } };
    } catch (error) {
      scope.cancel();
      return { ok: false as const, system: start.system, workflowId, error };
    }
  })));
  const failures = settled.filter((s) => !s.ok);
  if (failures.length) {
    // The part that failed first is the cause; the others were cancelled because of it. When every part
    // was cancelled, this runbook was (an abort): that is what ends it.
    const cause = failures.find((f) => !isCancellation(f.error));
    if (!cause) throw failures[0]!.error;
    if (cause.error instanceof ApplicationFailure && cause.error.type === FailureType.PartNotRecovered) throw cause.error;
    throw ApplicationFailure.create({ type: FailureType.PartNotRecovered, nonRetryable: true, message: `the ${cause.system} was not recovered (${cause.workflowId}): ${errorText(cause.error)}; the other parts were cancelled and removed what they built`, cause: cause.error as Error });
  }
  return Object.fromEntries(settled.map((s) => [s.ok ? s.part.system : s.system, s.ok ? s.part : undefined])) as Record<RecoveredSystem, Part<unknown>>;
}

/**
 * Complete system failure (seed 002, scenario 1): everything is down. Readiness first (the seed's
 * pre-recovery checklist: backups present and fresh against each RPO, storage space, connectivity, keys
 * resolvable), which also chooses one backup generation; then the database (a server-failure runbook:
 * the failure confirmed, the standby promoted or the latest backup and the archived WAL restored),
 * Redis (the RDB or AOF backup into a new instance, the newest session export into it) and the files
 * (documents, configs, code staged and verified) at once as child runbooks, each validated → ONE gate
 * `cutover` → the files moved into place, the application pointed at the new database and cache,
 * restarted, healthy on both → the application's own checks (connectivity, data integrity,
 * functionality) → the file restores confirmed → a short pgbench and redis-benchmark beside the figures
 * captured at backup time. Each part's RTO and RPO are measured against its tier (critical: database,
 * Redis; supporting: files), and the whole against the slowest. A drill does all of it on new instances
 * and the drill directories, never touching the application, and removes everything at the end.
 */
export async function recoverFromCompleteSystemFailure(input: RecoverFromCompleteSystemFailureInput) {
  return runRunbook({ scenario: 'complete-system-failure', input: recoverFromCompleteSystemFailureInput, gates: ['cutover'] }, input, async (rb: CompleteFailureRunbook) => {
    const { database, cache } = rb.input;
    const drill = rb.mode === 'drill';
    const declaredAt = rb.status().rto.declaredAt;
    const failedAt = rb.input.failedAt ?? declaredAt;
    const objectives = rb.systemObjectives();

    const readiness = await rb.step({
      name: 'readiness: the pre-recovery checklist (backups present and fresh, storage space, connectivity, keys)',
      activity: 'verifyReadiness',
      args: [{ database, cache: { instance: cache, kind: rb.input.cacheBackup, sessions: rb.input.sessions }, files: { ...(rb.input.archives ? { archives: rb.input.archives } : {}) }, ...(rb.input.asOf ? { asOf: rb.input.asOf } : {}), at: failedAt }],
      affectsProduction: false,
      options: { startToCloseTimeout: '5 minutes', heartbeatTimeout: '1 minute', retry: { maximumAttempts: 3, initialInterval: '2 seconds' } },
      describe: describeReadiness,
    });
    if (!readiness.ready) {
      const blocking = readiness.checks.filter((c) => c.blocking && !c.passed).map((c) => c.detail);
      throw ApplicationFailure.create({ type: FailureType.NotReady, nonRetryable: true, message: `not ready to recover, so nothing was built: ${blocking.join('; ')}`, details: [readiness] });
    }
    const generation = readiness.generation;
    const common = { incidentId: rb.input.incidentId, environment: rb.input.environment, mode: rb.mode, startedBy: rb.input.startedBy, declaredAt, failedAt, handOver: true };

    const readyAt: Partial<Record<RecoveredSystem, string>> = {};
    const parts = await recoverParts(rb, [
      {
        system: 'database',
        name: `recover the database ${database} (child runbook: confirm the failure, promote or restore, validate)`,
        run: async (o) => {
          const r = await rb.child(`recover the database ${database}`, recoverFromServerFailure, { ...o, args: [{ ...common, database, ...(rb.input.replica ? { replica: rb.input.replica } : {}), checks: rb.input.checks, checkIntervalSeconds: rb.input.checkIntervalSeconds, checkTimeoutSeconds: rb.input.checkTimeoutSeconds }] });
          readyAt.database = new Date().toISOString();
          return r;
        },
      },
      {
        system: 'cache',
        name: `recover the cache ${cache} (child runbook: ${rb.input.cacheBackup.toUpperCase()} backup into a new instance, verify)`,
        run: async (o) => {
          const r = await rb.child(`recover the cache ${cache}`, recoverCache, { ...o, args: [{ ...common, cache, kind: rb.input.cacheBackup, backupId: generation.cache!.backupId, ...(generation.sessions ? { sessionsBackupId: generation.sessions.backupId } : {}) }] });
          readyAt.cache = new Date().toISOString();
          return r;
        },
      },
      {
        system: 'files',
        name: 'recover the files (child runbook: stage and verify every archive)',
        run: async (o) => {
          const r = await rb.child('recover the files', recoverFiles, { ...o, args: [{ ...common, backupIds: Object.fromEntries(Object.entries(generation.files ?? {}).map(([kind, f]) => [kind, f.backupId])) }] });
          readyAt.files = new Date().toISOString();
          return r;
        },
      },
    ]);
    const db = parts.database as Part<DatabaseOutput>;
    const redis = parts.cache as Part<CacheOutput>;
    const files = parts.files as Part<FilesOutput>;
    if (db.result.rpo.newestCommittedAt && db.result.rpo.targetTime) rb.recordRecoveryPoint(db.result.rpo.newestCommittedAt, db.result.rpo.targetTime);
    const recoveredDatabase = db.output.recoveredInstance;
    const cacheInstance = redis.output.instanceId;

    await rb.gate('cutover');
    const inService: Partial<Record<RecoveredSystem, string>> = {};
    let applicationChecks: ApplicationChecks | undefined;
    let moved: Awaited<ReturnType<typeof moveFileRestoresIntoPlace>> = [];
    if (drill) {
      // A drill proves the moves on the drill directories; the application is never pointed anywhere.
      moved = await moveFileRestoresIntoPlace(rb, files.output.staged);
      rb.cutoverVerified();
      inService.database = inService.cache = inService.files = new Date().toISOString();
    } else {
      try {
        moved = await moveFileRestoresIntoPlace(rb, files.output.staged);
        inService.files = new Date().toISOString();
        await rb.step({ name: `point the application at ${recoveredDatabase}`, activity: 'pointAppAtDatabase', args: [{ database: recoveredDatabase }], affectsProduction: true, describe: (r) => `now ${r.current.endpoint}, was ${r.previous?.endpoint ?? 'unset'}` });
        await rb.step({ name: `point the application's cache at ${cacheInstance}`, activity: 'pointAppAtCache', args: [{ instanceId: cacheInstance }], affectsProduction: true, describe: (r) => `now ${r.current.endpoint}, was ${r.previous?.endpoint ?? 'unset'}` });
        await rb.step({ name: 'restart the application', activity: 'restartApp', args: [], affectsProduction: true, describe: describeRestart });
        const waitOptions = { startToCloseTimeout: `${rb.input.healthTimeoutSeconds + 30} seconds`, heartbeatTimeout: '10 seconds', retry: { maximumAttempts: 2 } } as const;
        await rb.step({ name: `wait until the application is healthy on ${recoveredDatabase}`, activity: 'waitUntilAppHealthy', args: [{ database: recoveredDatabase, timeoutSeconds: rb.input.healthTimeoutSeconds }], affectsProduction: false, options: waitOptions, describe: (h) => `healthy, answering from ${h.database.address}` });
        inService.database = new Date().toISOString();
        await rb.step({ name: `wait until the application uses the cache ${cacheInstance}`, activity: 'waitUntilAppUsesCache', args: [{ instanceId: cacheInstance, timeoutSeconds: rb.input.healthTimeoutSeconds }], affectsProduction: false, options: waitOptions, describe: (u) => u.detail });
        inService.cache = new Date().toISOString();
        applicationChecks = await rb.step({
          name: "the application's own checks: connectivity, data integrity, functionality",
          activity: 'runApplicationChecks',
          args: [{ timeoutSeconds: 60 }],
          affectsProduction: false,
          options: { startToCloseTimeout: '2 minutes', heartbeatTimeout: '10 seconds', retry: { maximumAttempts: 2 } },
          describe: (c) => c.groups.map((g) => `${g.passed ? '✅' : '❌'} ${g.group}: ${g.checks.map((x) => x.detail).join('; ')}`).join(' | '),
        });
        if (!applicationChecks.passed) {
          throw ApplicationFailure.create({ type: FailureType.AppChecksFailed, nonRetryable: true, message: `the application runs on the recovered systems but its own checks failed: ${applicationChecks.groups.filter((g) => !g.passed).map((g) => `${g.group}: ${g.checks.filter((c) => !c.passed).map((c) => c.detail).join('; ')}`).join(' | ')}; the files are put back, the application's pointers are left for a person to decide`, details: [applicationChecks] });
        }
        rb.cutoverVerified();
      } catch (error) {
        await revertMoved(rb, moved, error);
        throw error;
      }
      // The application is verified on the restored files: a confirm that fails leaves a previous copy to remove, not a restore to undo.
      await confirmFileRestores(rb, moved);
    }

    let performance: PerformanceComparison | undefined;
    if (rb.input.benchmarks) {
      performance = await rb.step({
        name: `a short pgbench of ${recoveredDatabase} and redis-benchmark of ${cacheInstance}, beside the figures at backup time`,
        activity: 'comparePerformanceWithBaseline',
        args: [{ baselineKey: rb.input.baselineKey, database: recoveredDatabase, cacheInstanceId: cacheInstance }],
        affectsProduction: false,
        options: validationOperation,
        describe: (p) => p.lines.map((l) => l.detail).join('; '),
      });
    }

    const rtoOf = (system: RecoveredSystem) => (inService[system] ? secondsBetween(declaredAt, inService[system]!) : undefined);
    const readyLine = (system: RecoveredSystem) => `ready (restored and validated) ${readyAt[system] ? secondsBetween(declaredAt, readyAt[system]!) : '?'} s after the incident was declared, by child runbook ${parts[system].workflowId}`;
    const perf = (system: 'database' | 'cache') => (performance?.lines ?? []).filter((l) => l.system === system).map((l) => `${l.withinBaseline === false ? '⚠️' : l.withinBaseline ? '✅' : '•'} ${l.detail}`);
    const systems: SystemSection[] = [
      systemSection('database', objectives?.database, {
        recovered: `${db.output.path === 'promoted-standby' ? 'promoted standby' : `backup set ${generation.database?.backupLabel ?? '?'} and the archived WAL`} into ${recoveredDatabase}`,
        rtoSeconds: rtoOf('database'),
        rpoSeconds: db.result.rpo.achievedSeconds,
        lines: [readyLine('database'), db.output.standbyDecision, `✅ ${db.output.validation.length} validation checks passed (the list is under Validation)`, ...perf('database')],
      }),
      systemSection('cache', objectives?.cache, {
        recovered: `${redis.output.kind.toUpperCase()} backup ${redis.output.backup.backupId}${redis.output.sessions ? ` and session export ${generation.sessions?.backupId}` : ''} into ${cacheInstance}`,
        rtoSeconds: rtoOf('cache'),
        rpoSeconds: redis.result.rpo.achievedSeconds,
        lines: [readyLine('cache'), ...(redis.output.sessions ? [`${redis.output.sessions.restored} of ${redis.output.sessions.total} sessions from the export, ${redis.output.sessions.skippedExpired} expired since`] : []), ...redis.output.validation.map((v) => `${v.passed ? '✅' : '❌'} ${v.check}: ${v.detail ?? ''}`), ...perf('cache')],
      }),
      systemSection('files', objectives?.files, {
        recovered: files.output.staged.map((s) => `${s.archiveKind} from ${s.backupId} into ${s.targetDir}`).join('; '),
        rtoSeconds: rtoOf('files'),
        rpoSeconds: files.result.rpo.achievedSeconds,
        lines: [readyLine('files'), ...files.output.validation.map((v) => `${v.passed ? '✅' : '❌'} ${v.check}: ${v.detail ?? ''}`)],
      }),
    ];
    const validation: ValidationLine[] = [
      ...db.output.validation.map((line) => ({ check: `database ${recoveredDatabase}`, passed: !/❌|FAIL/.test(line), detail: line })),
      ...redis.output.validation,
      ...files.output.validation,
      ...(applicationChecks?.groups ?? []).map((g) => ({ check: `application: ${g.group}`, passed: g.passed, detail: g.checks.map((c) => c.detail).join('; ') })),
      ...(performance?.lines ?? []).map((l) => ({ check: `performance: ${l.measure}`, passed: l.withinBaseline !== false, detail: l.detail })),
    ];
    return {
      generation,
      readiness: { checks: readiness.checks.length, warnings: readiness.checks.filter((c) => !c.passed).map((c) => c.detail) },
      parts: { database: db.workflowId, cache: redis.workflowId, files: files.workflowId },
      ...(applicationChecks ? { applicationChecks } : {}),
      ...(performance ? { performance: performance.lines } : {}),
      application: drill ? `drill: the application untouched; ${recoveredDatabase}, ${cacheInstance} and the drill directories are removed` : `on ${recoveredDatabase} and ${cacheInstance}`,
      systems,
      validation,
      instances: { database: recoveredDatabase, cache: cacheInstance, ...Object.fromEntries(moved.map((m) => [`files: ${m.archiveKind}`, m.targetDir])) },
      startedAt: workflowInfo().startTime.toISOString(),
    };
  });
}
