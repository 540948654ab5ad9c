import { ApplicationFailure, type ActivityOptions } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import type { z } from 'zod';
import { FailureType } from '../contracts/failure-types';
import type { RunbookInput } from '../contracts/inputs';
import type { RunbookTargets } from '../contracts/runbook-targets';

// What a scenario declares: its steps (named activity calls with their safety class and compensation),
// and the rules the runner holds every step definition to.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ActivityFunction = (...args: any[]) => Promise<any>;

/** The names of A's activities. */
export type ActivityName<A> = { [K in keyof A & string]: A[K] extends ActivityFunction ? K : never }[keyof A & string];
export type ArgsOf<A, K extends ActivityName<A>> = A[K] extends ActivityFunction ? Parameters<A[K]> : never;
export type ResultOf<A, K extends ActivityName<A>> = A[K] extends ActivityFunction ? Awaited<ReturnType<A[K]>> : never;

/** An activity call by name, with its arguments and (optionally) its own timeouts and retry policy. */
export type ActivityCall<A, K extends ActivityName<A> = ActivityName<A>> = { [N in K]: { activity: N; args: ArgsOf<A, N>; options?: ActivityOptions } }[K];

/** Undoes what a step built (delete the instance it created, …). Never targets production: see `StepDefinition`. */
export type CompensationDefinition<A> = ActivityCall<A> & { name: string };

/**
 * One step of a runbook. `affectsProduction` steps are refused in drill mode and, in a real run, until an
 * approval gate of this run has been approved (production is never changed before an approval). Taking a
 * snapshot of production or reading it is not production-affecting. They are never interrupted half-way
 * by an abort (it takes effect when they end), may not register a compensation, and retire the compensations
 * registered before them: once production is being changed, what the runbook built may be what production
 * uses, so undoing it is a person's decision, not an automatic one.
 */
export type StepDefinition<A, K extends ActivityName<A>> = {
  name: string;
  activity: K;
  args: ArgsOf<A, K>;
  /** Timeouts and retry; default five minutes, five attempts. Longer than five minutes needs heartbeatTimeout. */
  options?: ActivityOptions;
  /** One line shown in the Web UI for the activity; default: the step name. */
  summary?: string;
  /** A short description of the result for the timeline (no secrets, no customer data). */
  describe?: (result: ResultOf<A, K>) => string;
} & (
  | { affectsProduction: true; compensate?: never; builds?: never }
  | {
      affectsProduction: false;
      compensate?: (result: ResultOf<A, K>) => CompensationDefinition<A>;
      /**
       * The step builds something that may outlive it: an abort or a cancellation while it runs, or a
       * result that never arrives, can leave what it made (a whole restored copy of production). `builds`
       * undoes it, found by the deterministic id the build uses (workflow id and step), and is registered
       * BEFORE the activity starts; it must be harmless when nothing was built. A cancellation then waits
       * until the activity has stopped (so the cleanup runs after the build, not beside it). Once the step
       * returns, `compensate` (if given) takes its place.
       */
      builds?: CompensationDefinition<A>;
    }
);

export interface RunbookDefinition<S extends z.ZodType<RunbookInput>> {
  /** e.g. "server-failure"; the plan (gates, objectives) is looked up under this name. */
  scenario: string;
  /** The workflow's input schema, shared with the CLI: `z.strictObject({ ...runbookFields, … })`. */
  input: S;
  /** Every gate the runbook may open; checked against the plan before any other activity. */
  gates: readonly string[];
  /**
   * What the input names that must exist before anything is built: databases (application ones only),
   * replicas, tables, a migration version. Checked by an activity right after the plan, before any step.
   */
  targets?: (input: z.output<S>) => RunbookTargets;
}

/** Default for a step: five attempts with backoff, five minutes each. Long steps must heartbeat. */
export const defaultStepOptions: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2, maximumAttempts: 5 },
};
/** A step allowed to run longer than this without heartbeating could hang unnoticed for that long. */
const LONGEST_STEP_WITHOUT_HEARTBEAT_MS = 5 * 60_000;

/** Refuses step definitions that break the runner's rules; these are programming errors in a scenario. */
export function checkStepDefinition(name: string, options: ActivityOptions, affectsProduction: boolean, hasCompensation: boolean): void {
  const problems: string[] = [];
  if (affectsProduction && hasCompensation) problems.push('a production-affecting step may not register a compensation (production is never a compensation target)');
  const longest = options.startToCloseTimeout ?? options.scheduleToCloseTimeout;
  if (longest !== undefined && msToNumber(longest) > LONGEST_STEP_WITHOUT_HEARTBEAT_MS && options.heartbeatTimeout === undefined) {
    problems.push('a step that may run longer than 5 minutes must set heartbeatTimeout (and its activity must heartbeat)');
  }
  if (problems.length) throw ApplicationFailure.create({ type: FailureType.InvalidRunbook, nonRetryable: true, message: `step "${name}": ${problems.join('; ')}` });
}
