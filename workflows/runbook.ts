import { ApplicationFailure, CancellationScope, isCancellation, patched, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { z } from 'zod';
import type { createReportActivities } from '../activities/reports';
import { errorText } from '../contracts/error-text';
import { FailureType } from '../contracts/failure-types';
import { describeIssues, inputFields, type RunbookInput } from '../contracts/inputs';
import type { RunbookResult } from '../contracts/runbook-status';
import type { RunbookTargets } from '../contracts/runbook-targets';
import { OPERATOR_NOTICES_PATCH } from './notifications';
import { Runbook } from './runner';
import type { RunbookDefinition } from './steps';

export { Runbook } from './runner';
export type { ActivityCall, ActivityName, CompensationDefinition, RunbookDefinition, StepDefinition } from './steps';


const reportOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
  summary: 'write the runbook report (Markdown and JSON) to the object store',
} as const;
const { publishRunbookReport } = proxyActivities<ReturnType<typeof createReportActivities>>(reportOptions);
const { publishRunbookReport: publishRunbookReportLocally } = proxyLocalActivities<ReturnType<typeof createReportActivities>>(reportOptions);

/** A declaredAt a little after the start is a clock difference between machines, not a mistake. */
const DECLARED_AT_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The history shape of every run since the audit trail is written in batches (see Runbook): recorded
 * runs without this marker replay the command sequence they ran with.
 */
export const BATCHED_AUDIT_PATCH = 'batched-audit';

/**
 * The history shape of every run since votes carry proofs (issue 11): votes and aborts decided in their
 * handlers with the proof checked by an activity, refusals recorded, the input's targets checked by an
 * activity before any step, and a build's cleanup registered before it starts. Older runs replay as they ran.
 */
export const VOTE_PROOFS_PATCH = 'vote-proofs';

/**
 * The history shape of every run since the runbook's bookkeeping runs as local activities (issue 15: many
 * runbooks on one worker): the audit trail's batches and the report are written by the worker inside the
 * workflow task that needs them, where each was an activity of its own and a workflow task for its
 * result. A production step is still scheduled only once the batch that shows its approval is in the
 * trail (the append completes first, in the same task), so a deciding vote reaches the next step in one
 * workflow task instead of two. Notifications stay activities (a slow webhook must not hold a workflow
 * task), and so does reading the plan (an abort sent while a run starts is decided before any step is
 * scheduled). Older runs replay as they ran.
 */
export const LOCAL_BOOKKEEPING_PATCH = 'local-bookkeeping';

/**
 * The history shape of every run since the shapes above are asked with one marker (issue 15: many
 * runbooks on one worker): a run records this marker alone where it recorded five (batched-audit,
 * vote-proofs, operator-notices, local-bookkeeping, and local-end-notice at its end), and the server
 * upserts the TemporalChangeVersion search attribute once per marker, so every run cost the server four
 * more history events and four more visibility writes for nothing. What the run does is the same as with
 * all five. Runs recorded before it have no such marker and replay with the patches they recorded.
 */
export const CURRENT_SHAPE_PATCH = 'shape-in-one-marker';

/** Validates a workflow input against its schema; a bad input fails at once, naming the field. */
export function parseRunbookInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: describeIssues(parsed.error, inputFields(schema)), nonRetryable: true });
  return parsed.data;
}

/**
 * Runs a scenario as a runbook. The workflow function of every scenario is one call:
 *
 *   type ServerFailureRunbook = Runbook<Activities, z.output<typeof serverFailureInput>>;
 *   export async function recoverFromServerFailure(input: ServerFailureInput) {
 *     return runRunbook({ scenario: 'server-failure', input: serverFailureInput, gates: ['cutover'] }, input, async (rb: ServerFailureRunbook) => {
 *       const restored = await rb.step({ name: 'restore latest backup to a new instance', activity: 'restoreToPointInTime', args: [{ … }],
 *         options: { startToCloseTimeout: '1 hour', heartbeatTimeout: '30 seconds' }, affectsProduction: false,
 *         compensate: (r) => ({ name: 'delete the restored instance', activity: 'deleteInstance', args: [{ instance: r.instance }] }) });
 *       await rb.gate('cutover');
 *       await rb.step({ name: 'point the app at the restored instance', activity: 'pointAppAtDatabase', args: [{ … }], affectsProduction: true });
 *       rb.cutoverVerified();
 *       rb.recordRecoveryPoint(newestCommittedAt, incidentTime);
 *       return { instance: restored.instance };
 *     });
 *   }
 *
 * (Annotating `rb` is what tells the runner which activities exist and what they take and return.)
 *
 * Completes with the result (verdict completed, aborted, approval-rejected or approval-timed-out); fails with
 * `RunbookFailed` (details[0] is the result) when a step failed or a compensation or the audit trail failed;
 * ends cancelled when the workflow was cancelled and cleaned up without a problem.
 */
export async function runRunbook<S extends z.ZodType<RunbookInput>, A, O>(
  definition: RunbookDefinition<S>,
  rawInput: z.input<S>,
  body: (runbook: Runbook<A, z.output<S>>) => Promise<O>,
): Promise<RunbookResult<O>> {
  const input = parseRunbookInput(definition.input, rawInput) as z.output<S>;
  if (input.declaredAt && Date.parse(input.declaredAt) > workflowInfo().startTime.getTime() + DECLARED_AT_CLOCK_SKEW_MS) {
    throw ApplicationFailure.create({ type: FailureType.InvalidInput, nonRetryable: true, message: `declaredAt: ${input.declaredAt} is after the runbook started (${workflowInfo().startTime.toISOString()}); the incident must be declared before it is recovered` });
  }
  const current = patched(CURRENT_SHAPE_PATCH);
  const batched = current || patched(BATCHED_AUDIT_PATCH);
  const secured = current || (batched && patched(VOTE_PROOFS_PATCH));
  // Independent of vote-proofs: histories with either marker, or both in this order, replay.
  const notices = current || (batched && patched(OPERATOR_NOTICES_PATCH));
  const local = current || (notices && patched(LOCAL_BOOKKEEPING_PATCH));
  const runbook = new Runbook<A, z.output<S>>(definition.scenario, input, batched, secured, definition.targets as ((input: z.output<S>) => RunbookTargets) | undefined, notices, !local ? 'no' : current ? 'with-end-notice' : 'ask-at-end');
  runbook.registerHandlers();
  runbook.announce();
  const { output, error } = await runbook.execute(definition.gates, body);
  await runbook.finish();
  const status = runbook.status();
  const result: RunbookResult<O> = { ...status, verdict: status.verdict!, ...(output !== undefined ? { output } : {}) };
  // The report is written whatever the verdict; a report that cannot be written is said in the result,
  // and does not change what happened to the database. (Every batched run publishes it.)
  if (batched || patched('publish-runbook-report')) {
    const publish = local ? publishRunbookReportLocally : publishRunbookReport;
    result.report = await CancellationScope.nonCancellable(() => publish({ workflowId: runbook.workflowId, result })).then(
      (keys) => keys,
      (reportError: unknown) => ({ error: errorText(reportError) }),
    );
  }
  const problems = [
    ...(result.verdict === 'failed' ? [`failed: ${result.verdictDetail}`] : []),
    ...runbook.compensationFailures().map((c) => `compensation "${c.name}" failed: ${c.detail}`),
    ...(runbook.audit.problem ? [runbook.audit.problem] : []),
  ];
  if (problems.length) {
    throw ApplicationFailure.create({
      type: FailureType.RunbookFailed,
      nonRetryable: true,
      message: `${definition.scenario} ${input.incidentId} ended ${result.verdict}: ${problems.join('; ')}`,
      details: [result],
      ...(error instanceof Error && !isCancellation(error) ? { cause: error } : {}),
    });
  }
  if (result.verdict === 'cancelled') throw error;
  return result;
}
