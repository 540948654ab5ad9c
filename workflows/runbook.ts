import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  executeChild,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
  type ChildWorkflowOptions,
  type Workflow,
  type WorkflowResultType,
} from '@temporalio/workflow';
import type { WithWorkflowArgs } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { z } from 'zod';
import type { AuditActivities, AuditEntry } from '../activities/audit-port';
import type { createNotificationActivities } from '../activities/notifications';
import type { Notification, RunbookRef } from '../contracts/notifications';
import type { createRunbookPlanActivities } from '../activities/runbook-plan';
import type { EscalationTier, RunbookPlan } from '../contracts/runbook-plan';
import type { createReportActivities } from '../activities/reports';
import { ApprovalGates, waitForGateDecision, type VoteKind } from './approvals';
import { describeIssues, type RunbookInput } from '../contracts/inputs';
import { abortSignal, abortUpdate, approveSignal, approveUpdate, rejectSignal, rejectUpdate, statusQuery } from './messages';
import type { AbortRequest, CompensationReport, GateVote, RunbookPhase, RpoMeasure, RtoClock, RunbookResult, RunbookStatus, TimelineEntry, Verdict } from '../contracts/runbook-status';
import { DrEnvironment, DrIncidentId, DrScenario, DrStatus } from './search-attributes';
import { FailureType } from '../contracts/failure-types';
import { errorText } from '../contracts/error-text';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ActivityFunction = (...args: any[]) => Promise<any>;

/** The names of A's activities. */
export type ActivityName<A> = { [K in keyof A & string]: A[K] extends ActivityFunction ? K : never }[keyof A & string];
type ArgsOf<A, K extends ActivityName<A>> = A[K] extends ActivityFunction ? Parameters<A[K]> : never;
type ResultOf<A, K extends ActivityName<A>> = A[K] extends ActivityFunction ? Awaited<ReturnType<A[K]>> : never;

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
} & ({ affectsProduction: true; compensate?: never } | { affectsProduction: false; compensate?: (result: ResultOf<A, K>) => CompensationDefinition<A> });

export interface RunbookDefinition<S extends z.ZodType<RunbookInput>> {
  /** e.g. "server-failure"; the plan (gates, objectives) is looked up under this name. */
  scenario: string;
  /** The workflow's input schema, shared with the CLI: `z.strictObject({ ...runbookFields, … })`. */
  input: S;
  /** Every gate the runbook may open; checked against the plan before any other activity. */
  gates: readonly string[];
}

/** Default for a step: five attempts with backoff, five minutes each. Long steps must heartbeat. */
const defaultStepOptions: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2, maximumAttempts: 5 },
};
/** A step allowed to run longer than this without heartbeating could hang unnoticed for that long. */
const LONGEST_STEP_WITHOUT_HEARTBEAT_MS = 5 * 60_000;
/** A declaredAt a little after the start is a clock difference between machines, not a mistake. */
const DECLARED_AT_CLOCK_SKEW_MS = 5 * 60_000;

type Infrastructure = ReturnType<typeof createRunbookPlanActivities> & ReturnType<typeof createNotificationActivities> & AuditActivities & ReturnType<typeof createReportActivities>;

const { loadRunbookPlan } = proxyActivities<Infrastructure>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
  summary: 'read the gates and objectives for this scenario from the worker config',
});
const { notify } = proxyActivities<Infrastructure>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
  summary: 'notify people',
});
const { publishRunbookReport } = proxyActivities<Infrastructure>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
  summary: 'write the runbook report (Markdown and JSON) to the object store',
});
const { appendAuditEntries } = proxyActivities<Infrastructure>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
  summary: 'append to the audit trail',
});

/** Thrown inside the runbook to end it with a verdict other than failure (rejected, timed out). */
class RunbookEnded extends Error {
  constructor(readonly verdict: Verdict, readonly detail: string) {
    super(detail);
  }
}

interface PendingCompensation<A> {
  step: string;
  definition: CompensationDefinition<A>;
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

const messageOf = (error: unknown) => errorText(error);

/**
 * A running runbook: the handle a scenario uses to run steps, wait at gates and report its clocks.
 * Keeps the timeline, the audit trail, the status query and the search attributes current.
 */
export class Runbook<A, I extends RunbookInput = RunbookInput> {
  readonly workflowId = workflowInfo().workflowId;
  private readonly timeline: TimelineEntry[] = [];
  private readonly compensations: PendingCompensation<A>[] = [];
  private readonly compensationReports: CompensationReport[] = [];
  private readonly pendingAudit: AuditEntry[] = [];
  private nextSeq = 1;
  private flushing: Promise<void> = Promise.resolve();
  private auditFailure?: string;
  private gates: ApprovalGates;
  private plan?: RunbookPlan;
  private phase: RunbookPhase = 'starting';
  private currentStep?: string;
  private abortRequest?: AbortRequest & { at: string };
  private verdict?: Verdict;
  private verdictDetail?: string;
  private cutoverVerifiedAt?: number;
  private recoveryPoint?: { newestCommittedAt: string; targetTime: string };
  private readonly declaredAtMs: number;
  private scope?: CancellationScope;

  constructor(readonly scenario: string, readonly input: I) {
    this.gates = new ApprovalGates({}, input.startedBy);
    this.declaredAtMs = input.declaredAt ? Date.parse(input.declaredAt) : workflowInfo().startTime.getTime();
  }

  get mode(): 'real' | 'drill' {
    return this.input.mode;
  }

  /** Runs one step: timeline, audit, drill-mode refusal, compensation registration. Returns the activity's result. */
  async step<K extends ActivityName<A>>(definition: StepDefinition<A, K>): Promise<ResultOf<A, K>> {
    const options = { ...defaultStepOptions, ...definition.options };
    checkStepDefinition(definition.name, options, definition.affectsProduction, definition.compensate !== undefined);
    if (this.abortRequest) throw new CancelledFailure(`aborted by ${this.abortRequest.by}`);
    if (definition.affectsProduction && this.mode === 'drill') {
      const reason = `drill mode: step "${definition.name}" affects production and is refused by the runner`;
      this.addTimeline({ step: definition.name, outcome: 'refused', detail: reason }, true);
      this.audit('runbook', 'step-refused', { step: definition.name, reason });
      await this.flush();
      throw ApplicationFailure.create({ type: FailureType.ProductionStepRefused, message: reason, nonRetryable: true });
    }
    if (definition.affectsProduction && !this.gates.anyApproved()) {
      const reason = `step "${definition.name}" affects production and no approval gate has been approved yet: production is never changed before an approval`;
      this.addTimeline({ step: definition.name, outcome: 'refused', detail: reason }, true);
      this.audit('runbook', 'step-refused', { step: definition.name, reason });
      await this.flush();
      throw ApplicationFailure.create({ type: FailureType.ProductionStepRefused, message: reason, nonRetryable: true });
    }
    if (definition.affectsProduction && this.compensations.length > 0) {
      const retired = this.compensations.splice(0).map((c) => c.definition.name);
      const detail = `production is about to change; these are kept, not undone automatically: ${retired.join(', ')}`;
      this.addTimeline({ step: 'compensations retired', outcome: 'retired', detail }, true);
      this.audit('runbook', 'compensations-retired', { before: definition.name, retired });
    }
    const entry = this.addTimeline({ step: definition.name, outcome: 'running' });
    this.setCurrent(definition.name, 'running');
    this.audit('runbook', 'step-started', { step: definition.name, activity: definition.activity, affectsProduction: definition.affectsProduction });
    await this.flush();

    const activities = proxyActivities<Record<string, ActivityFunction>>({ ...options, summary: definition.summary ?? definition.name });
    const call = () => activities[definition.activity]!(...definition.args) as Promise<ResultOf<A, K>>;
    let result: ResultOf<A, K>;
    try {
      result = definition.affectsProduction ? await CancellationScope.nonCancellable(call) : await call();
    } catch (error) {
      entry.endedAt = new Date().toISOString();
      entry.outcome = isCancellation(error) ? 'cancelled' : 'failed';
      entry.detail = messageOf(error);
      this.audit('runbook', 'step-ended', { step: definition.name, outcome: entry.outcome, detail: entry.detail });
      await this.flush();
      throw error;
    }
    entry.endedAt = new Date().toISOString();
    entry.outcome = 'succeeded';
    if (definition.describe) entry.detail = definition.describe(result);
    this.audit('runbook', 'step-ended', { step: definition.name, outcome: 'succeeded', ...(entry.detail ? { detail: entry.detail } : {}) });
    if (definition.compensate) {
      const compensation = definition.compensate(result);
      this.compensations.push({ step: definition.name, definition: compensation });
      this.audit('runbook', 'compensation-registered', { step: definition.name, compensation: compensation.name });
    }
    await this.flush();
    return result;
  }

  /**
   * Opens an approval gate and waits for its decision, escalating per the plan. Returns when approved;
   * a rejection or the deadline ends the runbook (approval-rejected / approval-timed-out), failing closed.
   */
  async gate(name: string): Promise<void> {
    if (!this.gates.has(name)) {
      throw ApplicationFailure.create({ type: FailureType.InvalidPlan, nonRetryable: true, message: `gate "${name}" is not in this runbook's plan (scenario ${this.scenario})` });
    }
    if (this.abortRequest) throw new CancelledFailure(`aborted by ${this.abortRequest.by}`);
    if (this.mode === 'drill' && this.plan?.drill?.autoApprove) return this.approveByDrillPolicy(name);
    const plan = this.gates.plan(name);
    const starter = this.input.startedBy.trim().toLowerCase();
    const eligible = plan.approvers.filter((a) => !(plan.twoPersonRule && a.trim().toLowerCase() === starter));
    if (eligible.length < plan.quorum) {
      // Waiting hours for a quorum nobody can reach helps no one at 3 a.m.: say so now.
      throw ApplicationFailure.create({
        type: FailureType.InvalidPlan,
        nonRetryable: true,
        message: `gate "${name}" can never be approved: it needs ${plan.quorum} approvals but only ${eligible.length} listed approver(s) other than the starter ${this.input.startedBy} may approve (two-person rule); start the runbook as someone else or list more approvers`,
      });
    }
    const openedAtMs = Date.now();
    this.gates.open(name, openedAtMs);
    const view = this.gates.view(name);
    const entry = this.addTimeline({ step: `gate ${name}`, outcome: 'waiting', detail: `needs ${plan.quorum} of ${plan.approvers.join(', ')}${plan.twoPersonRule ? ` (not ${this.input.startedBy}: two-person rule)` : ''}; fails closed at ${view.deadlineAt}` });
    this.setCurrent(`approval gate "${name}"`, 'waiting-for-approval');
    this.audit('runbook', 'gate-opened', { gate: name, approvers: plan.approvers, quorum: plan.quorum, twoPersonRule: plan.twoPersonRule, deadlineAt: view.deadlineAt });
    let status;
    try {
      await this.flush();
      await this.notifySafely({ kind: 'approval-needed', runbook: this.ref(), gate: name, approvers: plan.approvers, quorum: plan.quorum, deadlineAt: view.deadlineAt! });
      status = await waitForGateDecision(this.gates, name, openedAtMs, (tier) => this.escalate(name, tier, view.openedAt!, view.deadlineAt!));
    } catch (error) {
      entry.endedAt = new Date().toISOString();
      entry.outcome = isCancellation(error) ? 'cancelled' : 'failed';
      entry.detail = messageOf(error);
      throw error;
    }
    const decided = this.gates.view(name);
    entry.endedAt = new Date().toISOString();
    if (status === 'approved') {
      entry.outcome = 'approved';
      entry.detail = `approved by ${decided.approvals.map((v) => v.approver).join(', ')}`;
    } else if (status === 'rejected') {
      entry.outcome = 'rejected';
      entry.detail = `rejected by ${decided.rejection!.approver}${decided.rejection!.comment ? `: ${decided.rejection!.comment}` : ''}`;
    } else {
      entry.outcome = 'timed-out';
      entry.detail = `no decision by ${decided.deadlineAt} (${decided.approvals.length} of ${plan.quorum} approvals): failing closed`;
    }
    this.audit('runbook', 'gate-decided', { gate: name, status, approvals: decided.approvals.map((v) => v.approver), ...(decided.rejection ? { rejectedBy: decided.rejection.approver } : {}) });
    this.setCurrent(undefined, 'running');
    await this.flush();
    if (status === 'rejected') throw new RunbookEnded('approval-rejected', `gate "${name}" ${entry.detail}`);
    if (status !== 'approved') throw new RunbookEnded('approval-timed-out', `gate "${name}": ${entry.detail}`);
  }

  /** A drill's gate, approved by the drill policy: on the timeline and in the audit trail like any decision. */
  private async approveByDrillPolicy(name: string): Promise<void> {
    const at = new Date().toISOString();
    this.gates.open(name, Date.now());
    this.gates.apply('approve', { gate: name, approver: 'drill-policy', comment: 'drill mode: approved by the drill policy (approvals.drill.autoApprove)' }, at);
    this.addTimeline({ step: `gate ${name}`, outcome: 'approved', detail: 'approved by the drill policy (drill mode)' }, true);
    this.audit('drill-policy', 'gate-decided', { gate: name, status: 'approved', approvals: ['drill-policy'] });
    await this.flush();
  }

  /**
   * Runs another runbook as a child workflow (a failed migration falls back to the point-in-time restore
   * path): on the timeline and in the audit trail under its workflow id, so people find it and decide its
   * gates there. An abort or cancellation of this runbook cancels it, and its own compensations run.
   */
  async child<T extends Workflow>(name: string, workflowType: T, options: WithWorkflowArgs<T, ChildWorkflowOptions> & { workflowId: string }): Promise<WorkflowResultType<T>> {
    if (this.abortRequest) throw new CancelledFailure(`aborted by ${this.abortRequest.by}`);
    const entry = this.addTimeline({ step: name, outcome: 'running', detail: `child runbook ${options.workflowId}` });
    this.setCurrent(name, 'running');
    this.audit('runbook', 'child-started', { step: name, workflowId: options.workflowId, workflowType: workflowType.name });
    await this.flush();
    try {
      const result = await executeChild<T>(workflowType.name, options);
      Object.assign(entry, { endedAt: new Date().toISOString(), outcome: 'succeeded' });
      this.audit('runbook', 'child-ended', { step: name, workflowId: options.workflowId, outcome: 'succeeded' });
      return result;
    } catch (error) {
      Object.assign(entry, { endedAt: new Date().toISOString(), outcome: isCancellation(error) ? 'cancelled' : 'failed', detail: `child runbook ${options.workflowId}: ${messageOf(error)}` });
      this.audit('runbook', 'child-ended', { step: name, workflowId: options.workflowId, outcome: entry.outcome, detail: entry.detail });
      await this.flush();
      throw error;
    }
  }

  /** The cutover is verified: the RTO clock stops here. */
  cutoverVerified(): void {
    this.cutoverVerifiedAt = Date.now();
    const rto = this.rto();
    this.addTimeline({ step: 'cutover verified', outcome: 'succeeded', detail: `RTO ${rto.elapsedSeconds} s against an objective of ${rto.objectiveSeconds} s` }, true);
    this.audit('runbook', 'cutover-verified', { rtoSeconds: rto.elapsedSeconds, objectiveSeconds: rto.objectiveSeconds });
  }

  /**
   * Records the recovery point: the newest committed record found in the recovered database (an activity
   * reads it) against the failure/target time. RPO = targetTime − newestCommittedAt.
   */
  recordRecoveryPoint(newestCommittedAt: string, targetTime: string): void {
    if (Number.isNaN(Date.parse(newestCommittedAt)) || Number.isNaN(Date.parse(targetTime))) {
      throw ApplicationFailure.create({ type: FailureType.InvalidRecoveryPoint, nonRetryable: true, message: `recovery point times must be ISO 8601 (got ${newestCommittedAt}, ${targetTime})` });
    }
    this.recoveryPoint = { newestCommittedAt, targetTime };
    const rpo = this.rpo();
    this.addTimeline({ step: 'recovery point', outcome: 'succeeded', detail: `newest committed ${newestCommittedAt}, target ${targetTime}: RPO ${rpo.achievedSeconds} s against an objective of ${rpo.objectiveSeconds} s` }, true);
    this.audit('runbook', 'recovery-point', { newestCommittedAt, targetTime, rpoSeconds: rpo.achievedSeconds, objectiveSeconds: rpo.objectiveSeconds });
  }

  status(): RunbookStatus {
    const gates = this.gates.views();
    return {
      workflowId: this.workflowId,
      scenario: this.scenario,
      mode: this.mode,
      environment: this.input.environment,
      incidentId: this.input.incidentId,
      startedBy: this.input.startedBy,
      phase: this.phase,
      ...(this.currentStep ? { currentStep: this.currentStep } : {}),
      timeline: this.timeline.map((e) => ({ ...e })),
      openGates: gates.filter((g) => g.status === 'open'),
      gates,
      rto: this.rto(),
      rpo: this.rpo(),
      compensations: this.compensationReports.map((c) => ({ ...c })),
      ...(this.abortRequest ? { abort: { ...this.abortRequest } } : {}),
      ...(this.verdict ? { verdict: this.verdict } : {}),
      ...(this.verdictDetail ? { verdictDetail: this.verdictDetail } : {}),
    };
  }

  // ---- internals used by runRunbook ----

  /**
   * @internal
   * A refused Update is answered to its caller and, by Temporal's design, leaves no trace in history (the
   * validator runs before anything is recorded), so it cannot reach the timeline or the audit trail
   * deterministically. A refused Signal is in history, so it goes on both.
   */
  registerHandlers(): void {
    setHandler(statusQuery, () => this.status());
    for (const [kind, update, signal] of [['approve', approveUpdate, approveSignal], ['reject', rejectUpdate, rejectSignal]] as const) {
      setHandler(update, (vote) => this.acceptVote(kind, vote), {
        validator: (vote) => {
          const refusal = this.gates.refusal(kind, vote);
          if (refusal) throw new Error(refusal);
        },
      });
      setHandler(signal, (vote) => {
        const refusal = this.gates.refusal(kind, vote);
        if (refusal) {
          const who = typeof vote?.approver === 'string' ? vote.approver : 'unknown';
          this.addTimeline({ step: `${kind} signal from ${who}`, outcome: 'refused', detail: refusal }, true);
          this.audit(who, `${kind}-refused`, { gate: typeof vote?.gate === 'string' ? vote.gate : null, reason: refusal, via: 'signal' });
          this.flushInBackground();
          return;
        }
        this.acceptVote(kind, vote);
      });
    }
    setHandler(abortUpdate, (request) => this.acceptAbort(request, 'update'), {
      validator: (request) => {
        const refusal = this.abortRefusal(request);
        if (refusal) throw new Error(refusal);
      },
    });
    setHandler(abortSignal, (request) => {
      const refusal = this.abortRefusal(request);
      if (refusal) {
        const who = typeof request?.by === 'string' ? request.by : 'unknown';
        this.addTimeline({ step: `abort signal from ${who}`, outcome: 'refused', detail: refusal }, true);
        this.audit(who, 'abort-refused', { reason: refusal, via: 'signal' });
        this.flushInBackground();
        return;
      }
      this.acceptAbort(request, 'signal');
    });
  }

  /** @internal Runs the scenario body and everything around it; returns the verdict and output. */
  async execute<O>(gatesNeeded: readonly string[], body: (runbook: this) => Promise<O>): Promise<{ output?: O; error?: unknown }> {
    this.scope = new CancellationScope({ cancellable: true });
    if (this.abortRequest) this.scope.cancel();
    try {
      const output = await this.scope.run(async () => {
        this.plan = await loadRunbookPlan({ scenario: this.scenario, environment: this.input.environment });
        const missing = gatesNeeded.filter((g) => !(g in this.plan!.gates));
        if (missing.length) {
          throw ApplicationFailure.create({
            type: FailureType.InvalidPlan,
            nonRetryable: true,
            message: `the worker config has no approval gate ${missing.map((g) => `"${g}"`).join(', ')} for scenario ${this.scenario}: add approvals.gates.${missing[0]} (approvers, quorum) to the config`,
          });
        }
        this.gates = new ApprovalGates(this.plan.gates, this.input.startedBy);
        this.setCurrent(undefined, 'running');
        this.audit(this.input.startedBy, 'runbook-started', { scenario: this.scenario, mode: this.mode, environment: this.input.environment, incidentId: this.input.incidentId });
        await this.flush();
        await this.notifySafely({ kind: 'incident-opened', runbook: this.ref(), startedBy: this.input.startedBy });
        return body(this);
      });
      this.verdict = 'completed';
      return { output };
    } catch (error) {
      if (error instanceof RunbookEnded) {
        this.verdict = error.verdict;
        this.verdictDetail = error.detail;
      } else if (isCancellation(error)) {
        this.verdict = this.abortRequest ? 'aborted' : 'cancelled';
        this.verdictDetail = this.abortRequest ? `aborted by ${this.abortRequest.by}: ${this.abortRequest.reason}` : 'the workflow was cancelled';
      } else {
        this.verdict = 'failed';
        this.verdictDetail = messageOf(error);
      }
      return { error };
    }
  }

  /** @internal Compensations (newest first, never cancelled), final audit, notification and search attributes. */
  async finish(): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      this.gates.freeze(`the runbook has ended (${this.verdict}); no more votes are taken`);
      this.gates.closeOpen(new Date().toISOString());
      const cleanup = this.mode === 'drill' || this.verdict !== 'completed';
      if (cleanup && this.compensations.length) {
        this.setCurrent('compensating', 'compensating');
        while (this.compensations.length) await this.compensate(this.compensations.pop()!);
      }
      const now = new Date().toISOString();
      for (const entry of this.timeline) {
        if (entry.endedAt === undefined && (entry.outcome === 'running' || entry.outcome === 'waiting')) Object.assign(entry, { endedAt: now, outcome: 'cancelled' });
      }
      this.phase = 'finished';
      this.currentStep = undefined;
      this.addTimeline({ step: 'runbook ended', outcome: this.verdict === 'completed' ? 'succeeded' : this.verdict === 'aborted' ? 'aborted' : this.verdict === 'cancelled' ? 'cancelled' : 'failed', detail: `${this.verdict}${this.verdictDetail ? `: ${this.verdictDetail}` : ''}` }, true);
      this.audit('runbook', 'runbook-ended', { verdict: this.verdict, detail: this.verdictDetail ?? null, compensationFailures: this.compensationFailures().map((c) => c.name) });
      upsertSearchAttributes([{ key: DrStatus, value: this.verdict! }]);
      setCurrentDetails(this.details());
      if (this.plan) await this.notifySafely({ kind: 'resolved', runbook: this.ref(), verdict: this.verdict!, ...(this.verdictDetail ? { detail: this.verdictDetail } : {}) });
      await this.flush().catch(() => undefined);
    });
  }

  compensationFailures(): CompensationReport[] {
    return this.compensationReports.filter((c) => c.outcome === 'failed');
  }

  get auditProblem(): string | undefined {
    return this.auditFailure;
  }

  private async compensate(pending: PendingCompensation<A>): Promise<void> {
    const { definition } = pending;
    const entry = this.addTimeline({ step: `compensation: ${definition.name}`, outcome: 'running', detail: `undoes step "${pending.step}"` });
    this.audit('runbook', 'compensation-started', { compensation: definition.name, step: pending.step });
    const activities = proxyActivities<Record<string, ActivityFunction>>({ ...defaultStepOptions, ...definition.options, summary: `compensation: ${definition.name}` });
    try {
      await activities[definition.activity]!(...definition.args);
      entry.outcome = 'succeeded';
      this.compensationReports.push({ name: definition.name, step: pending.step, outcome: 'succeeded' });
    } catch (error) {
      entry.outcome = 'failed';
      entry.detail = `undoes step "${pending.step}": ${messageOf(error)}`;
      this.compensationReports.push({ name: definition.name, step: pending.step, outcome: 'failed', detail: messageOf(error) });
    }
    entry.endedAt = new Date().toISOString();
    this.audit('runbook', 'compensation-ended', { compensation: definition.name, step: pending.step, outcome: entry.outcome, ...(entry.outcome === 'failed' ? { detail: entry.detail } : {}) });
    await this.flush().catch(() => undefined);
  }

  private acceptVote(kind: VoteKind, vote: GateVote) {
    const at = new Date().toISOString();
    const outcome = this.gates.apply(kind, vote, at);
    this.addTimeline({ step: `gate ${vote.gate}: ${kind} from ${vote.approver.trim()}`, outcome: kind === 'approve' ? 'approved' : 'rejected', ...(vote.comment ? { detail: vote.comment } : {}) }, true);
    this.audit(vote.approver.trim(), kind === 'approve' ? 'gate-approved' : 'gate-rejected', { gate: vote.gate, comment: vote.comment ?? null, gateStatus: outcome.status });
    this.flushInBackground();
    return outcome;
  }

  private abortRefusal(request: unknown): string | undefined {
    if (typeof request !== 'object' || request === null) return 'the abort payload must be an object {by, reason}';
    const { by, reason } = request as Partial<AbortRequest>;
    if (typeof by !== 'string' || by.trim() === '') return 'by: required (who aborts the runbook)';
    if (typeof reason !== 'string' || reason.trim() === '') return 'reason: required (why the runbook is aborted)';
    if (this.phase === 'finished' || this.phase === 'compensating') return `the runbook is already ending (${this.verdict ?? this.phase})`;
    if (this.abortRequest) return `already aborted by ${this.abortRequest.by} at ${this.abortRequest.at}`;
    return undefined;
  }

  private acceptAbort(request: AbortRequest, via: 'update' | 'signal'): { accepted: true } {
    this.abortRequest = { by: request.by.trim(), reason: request.reason, at: new Date().toISOString() };
    this.gates.freeze(`the runbook was aborted by ${this.abortRequest.by}; no more votes are taken`);
    this.addTimeline({ step: 'abort', outcome: 'aborted', detail: `by ${this.abortRequest.by}: ${request.reason}` }, true);
    this.audit(this.abortRequest.by, 'abort', { reason: request.reason, via, during: this.currentStep ?? this.phase });
    this.flushInBackground();
    this.scope?.cancel();
    return { accepted: true };
  }

  private async escalate(gate: string, tier: EscalationTier, openedAt: string, deadlineAt: string): Promise<void> {
    this.addTimeline({ step: `escalation: gate ${gate}`, outcome: 'notified', detail: `${tier.audience} notified after ${seconds(tier.afterMs)} s without a decision` }, true);
    this.audit('runbook', 'gate-escalated', { gate, audience: tier.audience, afterSeconds: seconds(tier.afterMs) });
    await this.flush();
    await this.notifySafely({ kind: 'escalation', runbook: this.ref(), gate, audience: tier.audience, waitingSince: openedAt, deadlineAt });
  }

  /** A notification that cannot be sent goes on the timeline; it does not stop a recovery. */
  private async notifySafely(notification: Notification): Promise<void> {
    try {
      await notify(notification);
    } catch (error) {
      if (isCancellation(error)) throw error;
      this.addTimeline({ step: `notification: ${notification.kind}`, outcome: 'failed', detail: messageOf(error) }, true);
      this.audit('runbook', 'notification-failed', { kind: notification.kind, detail: messageOf(error) });
    }
  }

  private audit(actor: string, action: string, detail: Record<string, unknown>): void {
    this.pendingAudit.push({ seq: this.nextSeq++, at: new Date().toISOString(), actor, action, detail });
  }

  /** Appends what is pending, one batch at a time, never cancelled half-way (appends are idempotent on seq). */
  private flush(): Promise<void> {
    const run = this.flushing.then(async () => {
      if (this.pendingAudit.length === 0) return;
      const batch = this.pendingAudit.slice();
      try {
        await CancellationScope.nonCancellable(() => appendAuditEntries({ workflowId: this.workflowId, entries: batch }));
      } catch (error) {
        this.auditFailure = `the audit trail could not be written: ${messageOf(error)}`;
        throw ApplicationFailure.create({ type: FailureType.AuditUnavailable, nonRetryable: true, message: this.auditFailure });
      }
      this.pendingAudit.splice(0, batch.length);
    });
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private flushInBackground(): void {
    this.flush().catch(() => undefined); // a failure is kept in auditFailure and fails the runbook at its end
  }

  private addTimeline(entry: Omit<TimelineEntry, 'startedAt'>, instant = false): TimelineEntry {
    const now = new Date().toISOString();
    const full: TimelineEntry = { startedAt: now, ...(instant ? { endedAt: now } : {}), ...entry };
    this.timeline.push(full);
    return full;
  }

  private setCurrent(step: string | undefined, phase: RunbookPhase): void {
    const statusChanged = phase !== this.phase;
    this.currentStep = step;
    this.phase = phase;
    if (statusChanged) upsertSearchAttributes([{ key: DrStatus, value: phase }]);
    setCurrentDetails(this.details());
  }

  private details(): string {
    const lines = [
      `**${this.mode === 'drill' ? 'DRILL: ' : ''}${this.scenario}** ${this.input.incidentId} (${this.input.environment})`,
      this.verdict && this.phase === 'finished' ? `Verdict: **${this.verdict}**${this.verdictDetail ? ` — ${this.verdictDetail}` : ''}` : `Current step: **${this.currentStep ?? this.phase}**`,
    ];
    for (const gate of this.gates.views().filter((g) => g.status === 'open')) {
      lines.push(`Gate "${gate.gate}": ${gate.approvals.length}/${gate.quorum} approvals; may approve: ${gate.stillMayApprove.join(', ') || 'nobody left'}; deadline ${gate.deadlineAt}`);
    }
    return lines.join('\n\n');
  }

  private ref(): RunbookRef {
    return { workflowId: this.workflowId, scenario: this.scenario, environment: this.input.environment, incidentId: this.input.incidentId, mode: this.mode };
  }

  private rto(): RtoClock {
    const objectiveSeconds = this.plan?.objectives.rtoSeconds ?? 0;
    const end = this.cutoverVerifiedAt ?? Date.now();
    const elapsedSeconds = seconds(Math.max(0, end - this.declaredAtMs));
    const withinObjective = this.cutoverVerifiedAt !== undefined ? elapsedSeconds <= objectiveSeconds : this.plan && elapsedSeconds > objectiveSeconds ? false : undefined;
    return {
      objectiveSeconds,
      declaredAt: new Date(this.declaredAtMs).toISOString(),
      ...(this.cutoverVerifiedAt !== undefined ? { cutoverVerifiedAt: new Date(this.cutoverVerifiedAt).toISOString() } : {}),
      elapsedSeconds,
      ...(withinObjective !== undefined ? { withinObjective } : {}),
    };
  }

  private rpo(): RpoMeasure {
    const objectiveSeconds = this.plan?.objectives.rpoSeconds ?? 0;
    if (!this.recoveryPoint) return { objectiveSeconds };
    const achievedSeconds = seconds(Math.max(0, Date.parse(this.recoveryPoint.targetTime) - Date.parse(this.recoveryPoint.newestCommittedAt)));
    return { objectiveSeconds, ...this.recoveryPoint, achievedSeconds, withinObjective: achievedSeconds <= objectiveSeconds };
  }
}

/** Refuses step definitions that break the runner's rules; these are programming errors in a scenario. */
function checkStepDefinition(name: string, options: ActivityOptions, affectsProduction: boolean, hasCompensation: boolean): void {
  const problems: string[] = [];
  if (affectsProduction && hasCompensation) problems.push('a production-affecting step may not register a compensation (production is never a compensation target)');
  const longest = options.startToCloseTimeout ?? options.scheduleToCloseTimeout;
  if (longest !== undefined && msToNumber(longest) > LONGEST_STEP_WITHOUT_HEARTBEAT_MS && options.heartbeatTimeout === undefined) {
    problems.push('a step that may run longer than 5 minutes must set heartbeatTimeout (and its activity must heartbeat)');
  }
  if (problems.length) throw ApplicationFailure.create({ type: FailureType.InvalidRunbook, nonRetryable: true, message: `step "${name}": ${problems.join('; ')}` });
}

/** Validates a workflow input against its schema; a bad input fails at once, naming the field. */
export function parseRunbookInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: describeIssues(parsed.error), nonRetryable: true });
  return parsed.data;
}

/**
 * Runs a scenario as a runbook. The workflow function of every scenario is one call:
 *
 *   type ServerFailureRunbook = Runbook<Activities, z.output<typeof serverFailureInput>>;
 *   export async function recoverFromServerFailure(input: ServerFailureInput) {
 *     return runRunbook({ scenario: 'server-failure', input: serverFailureInput, gates: ['cutover'] }, input, async (rb: ServerFailureRunbook) => {
 *       const restored = await rb.step({ name: 'restore latest backup to a new instance', activity: 'restoreSnapshot', args: [{ … }],
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
  const runbook = new Runbook<A, z.output<S>>(definition.scenario, input);
  runbook.registerHandlers();
  upsertSearchAttributes([
    { key: DrScenario, value: definition.scenario },
    { key: DrEnvironment, value: input.environment },
    { key: DrIncidentId, value: input.incidentId },
    { key: DrStatus, value: 'starting' },
  ]);
  const { output, error } = await runbook.execute(definition.gates, body);
  await runbook.finish();
  const status = runbook.status();
  const result: RunbookResult<O> = { ...status, verdict: status.verdict!, ...(output !== undefined ? { output } : {}) };
  // The report is written whatever the verdict; a report that cannot be written is said in the result,
  // and does not change what happened to the database.
  if (patched('publish-runbook-report')) {
    result.report = await CancellationScope.nonCancellable(() => publishRunbookReport({ workflowId: runbook.workflowId, result })).then(
      (keys) => keys,
      (reportError: unknown) => ({ error: messageOf(reportError) }),
    );
  }
  const problems = [
    ...(result.verdict === 'failed' ? [`failed: ${result.verdictDetail}`] : []),
    ...runbook.compensationFailures().map((c) => `compensation "${c.name}" failed: ${c.detail}`),
    ...(runbook.auditProblem ? [runbook.auditProblem] : []),
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
