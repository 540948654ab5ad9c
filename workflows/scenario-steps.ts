import { ApplicationFailure, isCancellation, patched } from '@temporalio/workflow';
import type { Activities, AppHealth, AppRuntimeNames, BaselineLookup, CredentialRotation, PointAppResult, RestartResult, RolloutStatus, ValidationGateResult } from '../activities';
import type { Runbook } from './runbook';
import type { RunbookInput } from '../contracts/inputs';
import { errorText } from '../contracts/error-text';
import { FailureType } from '../contracts/failure-types';
import { countPassed, describeFailedChecks } from '../contracts/validation';

// Steps more than one scenario takes, written once so every runbook validates and cuts over the same way.

export type ScenarioRunbook<I extends RunbookInput> = Runbook<Activities, I>;

/** A restore or a replay of WAL can take a while: give it an hour, and notice a dead worker in a minute. */
export const longOperation = { startToCloseTimeout: '1 hour', heartbeatTimeout: '1 minute', retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 5 } } as const;
/** A rollout takes as long as its Deployment's replicas take to become ready; its wait heartbeats every second. */
export const rolloutOperation = { startToCloseTimeout: '2 hours', heartbeatTimeout: '30 seconds', retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 5 } } as const;
/** Validation queries run as long as the data is big; they heartbeat every second. */
export const validationOperation = { startToCloseTimeout: '30 minutes', heartbeatTimeout: '30 seconds', retry: { initialInterval: '2 seconds', maximumAttempts: 3 } } as const;

/** The critical integrity query of the seed, read-only: connectivity, user and transaction counts, total amount. */
export async function assessDatabase<I extends RunbookInput>(rb: ScenarioRunbook<I>, database: string, name = `assess ${database}`) {
  return rb.step({
    name,
    activity: 'checkDatabaseHealth',
    args: [{ database }],
    affectsProduction: false,
    options: { startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3, initialInterval: '1 second' } },
    describe: (h) => `users ${h.userCount}, transactions ${h.transactionCount}, total ${h.totalAmount}`,
  });
}

/**
 * Runs since this patch find the last known good baseline at or before their recovery target and pass
 * it to the gate (one more step); recorded runs replay without it.
 */
export const VALIDATION_BASELINE_PATCH = 'validation-baseline';

export interface GateOptions {
  incidentTime?: string;
  rpoSeconds?: number;
  /** Whose baselines apply (the production database the recovered copy is of) and the recovery target. */
  baselineOf?: { database: string; at: string };
  /** The baseline (or its absence) an earlier gate of this run found: checked again without another look-up. */
  sameBaselineAs?: Pick<ValidationGateResult, 'baseline' | 'noBaseline'>;
  /** Data rolled back in place keeps what was written after the incident: rows may be dated up to now. */
  keptWritesAfterIncident?: boolean;
}

/** The gate's input exactly as every runbook passes it: the baseline found, or why there is none. */
export function validationGateInput(database: string, options: Pick<GateOptions, 'incidentTime' | 'rpoSeconds' | 'keptWritesAfterIncident'>, lookup?: BaselineLookup) {
  return {
    database,
    ...(options.incidentTime !== undefined ? { incidentTime: options.incidentTime } : {}),
    ...(options.rpoSeconds !== undefined ? { rpoSeconds: options.rpoSeconds } : {}),
    ...(options.keptWritesAfterIncident ? { notDatedAfter: 'now' as const } : {}),
    ...(lookup ? (lookup.found ? { baselineKey: lookup.baselineKey } : { noBaseline: lookup.reason }) : {}),
  };
}

/** The same baseline (or the same absence) for a later check of the same database, from the gate's result. */
export function baselineOfResult(result: Pick<ValidationGateResult, 'baseline' | 'noBaseline'>) {
  return result.baseline ? { baselineKey: result.baseline.key } : result.noBaseline ? { noBaseline: result.noBaseline } : {};
}

/** What the gate asks a person to see before approving (REVIEW lines), also from results recorded before it did. */
export function reviewOf(result: Pick<ValidationGateResult, 'review'>): string[] {
  return result.review ?? [];
}

/**
 * The validation gate: every built-in check on the recovered database, against the last known good
 * baseline at or before the recovery target. A failing check blocks what comes next (the cutover, the
 * repair), naming every check that failed with its value and expectation; REVIEW lines go to the next gate.
 */
export async function validateRecoveredDatabase<I extends RunbookInput>(rb: ScenarioRunbook<I>, database: string, options: GateOptions = {}) {
  const { baselineOf } = options;
  const lookup = baselineOf && patched(VALIDATION_BASELINE_PATCH)
    ? await rb.step({
      name: `find the last known good baseline of ${baselineOf.database} at or before ${baselineOf.at}`,
      activity: 'findValidationBaseline',
      args: [{ database: baselineOf.database, at: baselineOf.at }],
      affectsProduction: false,
      options: { startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3, initialInterval: '1 second' } },
      describe: (l) => (l.found ? `backup ${l.backupLabel}, consistent at ${l.consistentAt}` : l.reason),
    })
    : undefined;
  const result = await rb.step({
    name: `validate ${database}`,
    activity: 'runValidationChecks',
    args: [{ ...validationGateInput(database, options, lookup), ...(options.sameBaselineAs ? baselineOfResult(options.sameBaselineAs) : {}) }],
    affectsProduction: false,
    options: validationOperation,
    describe: (r) => `${countPassed(r)}${r.passed ? '' : `: ${describeFailedChecks(r)}`}`,
  });
  if (!result.passed) {
    throw ApplicationFailure.create({
      type: FailureType.ValidationFailed,
      nonRetryable: true,
      message: `validation of ${database} failed, so the runbook stops before changing production: ${describeFailedChecks(result)}`,
      details: [result],
    });
  }
  return result;
}

/**
 * The history shape of every cutover since each one rotates the application's credentials and waits for
 * its rollout: recorded runs replay the three steps they ran (point, restart, wait healthy).
 */
export const ROTATE_AND_ROLL_OUT_PATCH = 'rotate-and-roll-out';

/** Older recorded point results do not name the runtime: the steps after them take these names. */
const unnamedRuntime: AppRuntimeNames = { application: 'the application', connection: 'its connection', restart: 'restart the application', rolloutStatus: 'wait for the restart to reach every replica' };

/**
 * The seed's application cutover, with the security engineer's access check: give the application role
 * a new password on the database it moves to (a new version of its connection secret), point the
 * application at that version (`kubectl create secret … | kubectl apply`), rollout restart, rollout
 * status, wait until it answers healthy from that database (the RTO clock stops here), then revoke the
 * old password. A restart that does not get healthy puts the previous version back and restarts again,
 * and the cutover fails saying why.
 */
export async function cutOverApplication<I extends RunbookInput>(rb: ScenarioRunbook<I>, database: string, healthTimeoutSeconds = 120) {
  if (!patched(ROTATE_AND_ROLL_OUT_PATCH)) return cutOverWithoutRotation(rb, database, healthTimeoutSeconds);
  const rotation = await rb.step({
    name: `rotate the application's database password on ${database}`,
    activity: 'rotateDatabaseSecret',
    args: [{ database }],
    affectsProduction: true,
    describe: (r) => `new password for ${r.role}: ${r.secret.name} version ${r.secret.version}${r.previous ? ` (the application held version ${r.previous.version})` : ''}${r.reused ? ', set by an earlier attempt' : ''}`,
  });
  const pointed = await rb.step({
    name: `point the application at ${database}`,
    activity: 'pointAppAtDatabase',
    args: [{ database, secret: rotation.secret }],
    affectsProduction: true,
    describe: describePoint,
  });
  const names = pointed.runtime ?? unnamedRuntime;
  let health: AppHealth;
  try {
    await rb.step({ name: names.restart, activity: 'restartApp', args: [], affectsProduction: true, describe: describeRestart });
    await waitForRollout(rb, names.rolloutStatus);
    health = await waitUntilHealthy(rb, database, healthTimeoutSeconds);
  } catch (error) {
    if (isCancellation(error)) throw error;
    const rollback = await rollBackCutover(rb, rotation, pointed, names);
    throw ApplicationFailure.create({
      type: FailureType.CutoverRolledBack,
      nonRetryable: true,
      message: `the cutover to ${database} failed: ${errorText(error, { innermost: true })}; ${rollback}`,
    });
  }
  rb.cutoverVerified();
  const revoked = await rb.step({
    name: `revoke the application's old database password on ${database}`,
    activity: 'revokeOldDatabaseCredential',
    args: [{ rotation }],
    affectsProduction: true,
    describe: (r) => r.detail,
  });
  return { pointed, health, rotation, revoked };
}

/** The platform's rollout status: the restart has reached every replica ("3 of 3 updated, 3 available"). */
async function waitForRollout<I extends RunbookInput>(rb: ScenarioRunbook<I>, name: string) {
  return rb.step({ name, activity: 'waitForAppRollout', args: [{}], affectsProduction: false, options: rolloutOperation, describe: describeRollout });
}

async function waitUntilHealthy<I extends RunbookInput>(rb: ScenarioRunbook<I>, database: string, healthTimeoutSeconds: number) {
  return rb.step({
    name: `wait until the application is healthy on ${database}`,
    activity: 'waitUntilAppHealthy',
    args: [{ database, timeoutSeconds: healthTimeoutSeconds }],
    affectsProduction: false,
    options: { startToCloseTimeout: `${healthTimeoutSeconds + 30} seconds`, heartbeatTimeout: '10 seconds', retry: { maximumAttempts: 2 } },
    describe: (h) => `healthy, answering from ${h.database.address}`,
  });
}

/** Puts back the connection the application held, restarts it and waits: returns one line saying how that went. */
async function rollBackCutover<I extends RunbookInput>(rb: ScenarioRunbook<I>, rotation: CredentialRotation, pointed: PointAppResult, names: AppRuntimeNames): Promise<string> {
  const previous = rotation.previous;
  if (!previous) return `nothing was put back: ${names.application} had no connection before the cutover`;
  const back = `${names.connection} is back on ${previous.name} version ${previous.version}`;
  try {
    await rb.step({
      name: `roll back: put ${names.connection} back to ${previous.name} version ${previous.version}`,
      activity: 'restorePreviousAppConnection',
      args: [{ rotation, ...(pointed.previous?.name ? { database: pointed.previous.name } : {}) }],
      affectsProduction: true,
      describe: describePoint,
    });
    await rb.step({ name: `roll back: ${names.restart}`, activity: 'restartApp', args: [], affectsProduction: true, describe: describeRestart });
  } catch (error) {
    if (isCancellation(error)) throw error;
    return `and the rollback failed too, so ${names.connection} may still point at the new database: ${errorText(error, { innermost: true })}`;
  }
  try {
    const status = await waitForRollout(rb, `roll back: ${names.rolloutStatus}`);
    return `${back} and ${names.application} rolled out on it (${describeRollout(status)})`;
  } catch (error) {
    if (isCancellation(error)) throw error;
    return `${back}, but its rollout did not finish either: ${errorText(error, { innermost: true })}`;
  }
}

/** The cutover as runs recorded before the rotation took it: point, restart, wait until healthy. */
async function cutOverWithoutRotation<I extends RunbookInput>(rb: ScenarioRunbook<I>, database: string, healthTimeoutSeconds: number) {
  const pointed = await rb.step({
    name: `point the application at ${database}`,
    activity: 'pointAppAtDatabase',
    args: [{ database }],
    affectsProduction: true,
    describe: (r) => (r.changed ? `now ${r.current.endpoint}, was ${r.previous?.endpoint ?? 'unset'}` : `already ${r.current.endpoint}`),
  });
  await rb.step({ name: 'restart the application', activity: 'restartApp', args: [], affectsProduction: true, describe: describeRestart });
  const health = await waitUntilHealthy(rb, database, healthTimeoutSeconds);
  rb.cutoverVerified();
  return { pointed, health };
}

/** "Secret mita/mita-db-config now 10.0.0.7:5432/mita (app-database-connection version 4), was …". */
export function describePoint(r: PointAppResult): string {
  const where = r.runtime?.connection ?? 'the application';
  const version = (p: PointAppResult['current'] | null) => (p?.secret ? ` (${p.secret.name} version ${p.secret.version})` : '');
  if (!r.changed) return `${where} already ${r.current.endpoint}${version(r.current)}`;
  return `${where} now ${r.current.endpoint}${version(r.current)}, was ${r.previous?.endpoint ?? 'unset'}${version(r.previous)}`;
}

/** "3 of 3 updated, 3 available: deployment "mita-backend" successfully rolled out". */
export function describeRollout(s: RolloutStatus): string {
  return `${s.updated} of ${s.desired} updated, ${s.available} available: ${s.message}`;
}

/** A restart result recorded before the AppRuntime port spoke in the runtime's words (process ids). */
type RecordedRestart = RestartResult | { stoppedPids: number[]; startedPids: number[] };

/** "stopped process 4711, started process 4712" (a rollout restart describes itself the same way). */
export function describeRestart(result: RecordedRestart): string {
  const { stopped, started } = 'stoppedPids' in result ? { stopped: result.stoppedPids, started: result.startedPids } : result;
  return `stopped ${stopped.join(', ') || 'nothing'}, started ${started.join(', ')}`;
}

/** A health answer recorded before the port's named checks: the demo app's totals as fields. */
type RecordedAppHealth = AppHealth | (Omit<AppHealth, 'checks'> & { userCount: number; transactionCount: number; totalAmount: string });

/** What the application's health checks found, one line: "users 60, transactions 300, total 1234.00". */
export function describeAppChecks(health: RecordedAppHealth): string {
  if (!('checks' in health)) return `users ${health.userCount}, transactions ${health.transactionCount}, total ${health.totalAmount}`;
  return health.checks.map((c) => (c.passed ? c.detail : `${c.name} FAILED: ${c.detail}`)).join('; ');
}
