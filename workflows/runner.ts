import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  condition,
  executeChild,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
  type ChildWorkflowOptions,
  type Workflow,
  type WorkflowResultType,
} from '@temporalio/workflow';
import type { Duration, WithWorkflowArgs } from '@temporalio/common';
import { errorText } from '../contracts/error-text';
import { FailureType } from '../contracts/failure-types';
import type { RunbookInput } from '../contracts/inputs';
import type { Notification, RunbookRef } from '../contracts/notifications';
import type { RecoveredSystem, RunbookPlan, SystemObjective } from '../contracts/runbook-plan';
import type { RunbookPhase, RunbookStatus, Verdict } from '../contracts/runbook-status';
import type { RunbookTargets } from '../contracts/runbook-targets';
import { runbookSummary } from '../contracts/summary';
import { registerAlertNotes } from './alert-notes';
import { AuditTrail } from './audit-trail';
import { Compensations } from './compensations';
import { AbortDesk } from './aborts';
import { GateKeeper, RunbookEnded } from './gates/gate-lifecycle';
import { MessageRefusals } from './message-refusals';
import { RecoveryMeasures } from './recovery-measures';
import { ProofChecks } from './vote-proofs';
import { statusQuery } from './messages';
import { DrEnvironment, DrIncidentId, DrScenario, DrStatus, RunSearchAttributes } from './search-attributes';
import { checkStepDefinition, defaultStepOptions, type ActivityFunction, type ActivityName, type CompensationDefinition, type ResultOf, type StepDefinition } from './steps';
import { Notifications, type LocalBookkeeping } from './notifications';
import { runDetails } from './run-details';
import { startReads } from './run-start';
import { Timeline } from './timeline';

/**
 * The history shape of every run since a runbook that stops says what it leaves as it is (a promotion no
 * compensation puts back): one more timeline entry and audit record, and the end's notice says it.
 */
export const LEFT_AS_IT_IS_PATCH = 'left-as-it-is';

/**
 * A running runbook: the handle a scenario uses to run steps, wait at gates and report its clocks.
 * Keeps the timeline, the audit trail, the status query and the search attributes current.
 *
 * `batched` (every run since the batched-audit patch): the audit trail is written at the points that
 * matter, not around every step: when a gate opens (beside its notification), before production is
 * changed, when a child runbook starts, at the end; start-up notifications go beside the first step; the
 * search attributes a workflow task changes go out as one upsert. Runs recorded before it replay as they ran.
 */
export class Runbook<A, I extends RunbookInput = RunbookInput> {
  readonly workflowId = workflowInfo().workflowId;
  readonly timeline = new Timeline();
  readonly audit: AuditTrail;
  private readonly searchAttributes: RunSearchAttributes;
  private readonly compensations: Compensations<A>;
  private readonly gates: GateKeeper;
  private plan?: RunbookPlan;
  private phase: RunbookPhase = 'starting';
  private currentStep?: string;
  private planSettled = false;
  private readonly refusals: MessageRefusals;
  private readonly proofs = new ProofChecks();
  private verdict?: Verdict;
  private verdictDetail?: string;
  private readonly measures: RecoveryMeasures;
  private scope?: CancellationScope;
  private readonly notifications: Notifications;
  private readonly aborts: AbortDesk;
  private readonly leftAsItIs: string[] = [];
  private unrecordedAlertNotes: () => number = () => 0;

  /**
   * `secured` (every run since the vote-proofs patch): votes and aborts are decided in their handlers with
   * their proofs checked by the worker and every refusal recorded; only incident commanders abort; the
   * input's targets are checked before any step; what a build makes is undone even if it never returns.
   * `notices` (every run since the operator-notices patch): people are kept current (workflows/notifications.ts).
   */
  constructor(readonly scenario: string, readonly input: I, readonly batched: boolean, readonly secured = false, private readonly targets?: (input: I) => RunbookTargets, notices = false, localAudit: LocalBookkeeping = 'no') {
    this.searchAttributes = new RunSearchAttributes(batched);
    this.audit = new AuditTrail(this.workflowId, () => this.searchAttributes.flush(), localAudit !== 'no');
    this.refusals = new MessageRefusals(this.timeline, this.audit, () => this.audit.writeInBackground());
    this.notifications = new Notifications(this.timeline, this.audit, batched, () => this.searchAttributes.flush(), {
      notices, localBookkeeping: localAudit,
      status: () => this.status(),
      ref: () => this.ref(),
      statusUpdateEveryMs: () => this.plan?.statusUpdateEveryMs,
    });
    this.compensations = new Compensations<A>(this.timeline, this.audit, async () => {
      if (!batched) await this.audit.write().catch(() => undefined);
    }, () => this.searchAttributes.flush());
    this.gates = new GateKeeper({
      scenario, startedBy: input.startedBy, mode: input.mode, timeline: this.timeline, audit: this.audit, batched,
      drillPolicyApproves: () => this.plan?.drill?.autoApprove === true,
      throwIfAborted: () => this.throwIfAborted(),
      setCurrent: (step, phase) => this.setCurrent(step, phase),
      notify: (n) => this.notifySafely(n),
      ref: () => this.ref(),
      beforeTimer: () => this.searchAttributes.flush(),
      secured,
      refusals: this.refusals,
      proofs: this.proofs,
    });
    this.aborts = new AbortDesk({
      timeline: this.timeline, audit: this.audit, batched, secured, refusals: this.refusals, proofs: this.proofs,
      mode: () => this.mode,
      phase: () => this.phase,
      verdict: () => this.verdict,
      currentStep: () => this.currentStep,
      plan: () => this.plan,
      planSettled: () => this.planSettled,
      freezeVotes: (reason) => this.gates.freeze(reason),
      cancelBody: () => this.scope?.cancel(),
    });
    const declaredAtMs = input.declaredAt ? Date.parse(input.declaredAt) : workflowInfo().startTime.getTime();
    this.measures = new RecoveryMeasures(this.timeline, this.audit, declaredAtMs, () => this.plan?.objectives);
  }

  get mode(): 'real' | 'drill' {
    return this.input.mode;
  }

  /** Runs one step: timeline, audit, drill-mode refusal, compensation registration. Returns the activity's result. */
  async step<K extends ActivityName<A>>(definition: StepDefinition<A, K>): Promise<ResultOf<A, K>> {
    const options = { ...defaultStepOptions, ...definition.options };
    checkStepDefinition(definition.name, options, definition.affectsProduction, definition.compensate !== undefined);
    this.throwIfAborted();
    if (definition.affectsProduction && this.mode === 'drill') {
      return this.refuseStep(definition.name, `drill mode: step "${definition.name}" affects production and is refused by the runner`);
    }
    if (definition.affectsProduction && !this.gates.anyApproved()) {
      return this.refuseStep(definition.name, `step "${definition.name}" affects production and no approval gate has been approved yet: production is never changed before an approval`);
    }
    if (definition.affectsProduction) this.compensations.retireBefore(definition.name);
    // What a build makes can outlive the step (an abort mid-restore, a result never delivered): its
    // cleanup is registered first, and a cancellation waits until the activity has stopped.
    const builds = this.secured && !definition.affectsProduction ? definition.builds : undefined;
    const cleanup = builds ? this.compensations.register(definition.name, builds) : undefined;
    const entry = this.timeline.add({ step: definition.name, outcome: 'running' });
    this.setCurrent(definition.name, 'running');
    this.audit.record('runbook', 'step-started', { step: definition.name, activity: definition.activity, affectsProduction: definition.affectsProduction });
    // Production is changed only once the trail shows the approval and this step starting.
    if (!this.batched || definition.affectsProduction) await this.audit.write();

    const activities = proxyActivities<Record<string, ActivityFunction>>({ ...options, ...(builds ? { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } : {}), summary: definition.summary ?? definition.name });
    const call = () => activities[definition.activity]!(...definition.args) as Promise<ResultOf<A, K>>;
    this.searchAttributes.flush();
    let result: ResultOf<A, K>;
    try {
      result = definition.affectsProduction ? await CancellationScope.nonCancellable(call) : await call();
    } catch (error) {
      this.timeline.end(entry, isCancellation(error) ? 'cancelled' : 'failed', errorText(error));
      this.audit.record('runbook', 'step-ended', { step: definition.name, outcome: entry.outcome, detail: entry.detail });
      if (!this.batched) await this.audit.write();
      throw error;
    }
    this.timeline.end(entry, 'succeeded', definition.describe?.(result));
    this.audit.record('runbook', 'step-ended', { step: definition.name, outcome: 'succeeded', ...(entry.detail ? { detail: entry.detail } : {}) });
    if (definition.compensate && cleanup !== undefined) this.compensations.replace(cleanup, definition.compensate(result));
    else if (definition.compensate) this.compensations.register(definition.name, definition.compensate(result));
    if (!this.batched) await this.audit.write();
    return result;
  }

  /**
   * Opens an approval gate and waits for its decision, escalating per the plan. Returns when approved;
   * a rejection or the deadline ends the runbook (approval-rejected / approval-timed-out), failing closed.
   * `review`: lines its approvers must see first (the validation's REVIEW lines); votes record they were shown.
   */
  async gate(name: string, options: { review?: readonly string[] } = {}): Promise<void> {
    try {
      await this.gates.pass(name, options.review);
    } finally {
      this.notifications.gateDecided(name);
    }
  }

  /** Waits, with a name the Web UI shows for the timer (e.g. the interval between two checks). */
  async sleep(duration: Duration, summary: string): Promise<void> {
    this.searchAttributes.flush();
    await sleep(duration, { summary });
  }

  /**
   * Runs another runbook as a child workflow (a failed migration falls back to the point-in-time restore
   * path): on the timeline and in the audit trail under its workflow id, so people find it and decide its
   * gates there. An abort or cancellation of this runbook cancels it, and its own compensations run.
   */
  async child<T extends Workflow>(name: string, workflowType: T, options: WithWorkflowArgs<T, ChildWorkflowOptions> & { workflowId: string }): Promise<WorkflowResultType<T>> {
    this.throwIfAborted();
    const entry = this.timeline.add({ step: name, outcome: 'running', detail: `child runbook ${options.workflowId}` });
    this.setCurrent(name, 'running');
    this.audit.record('runbook', 'child-started', { step: name, workflowId: options.workflowId, workflowType: workflowType.name });
    // The child may wait hours at its own gates: the trail is written beside it, not after it.
    if (this.batched) this.audit.writeInBackground();
    else await this.audit.write();
    this.searchAttributes.flush();
    try {
      const summary = this.batched ? { staticSummary: `${runbookSummary(this.scenario, this.input)} · child of ${this.workflowId}` } : {};
      const result = await executeChild<T>(workflowType.name, { ...summary, ...options });
      Object.assign(entry, { endedAt: new Date().toISOString(), outcome: 'succeeded' });
      this.audit.record('runbook', 'child-ended', { step: name, workflowId: options.workflowId, outcome: 'succeeded' });
      return result;
    } catch (error) {
      Object.assign(entry, { endedAt: new Date().toISOString(), outcome: isCancellation(error) ? 'cancelled' : 'failed', detail: `child runbook ${options.workflowId}: ${errorText(error)}` });
      this.audit.record('runbook', 'child-ended', { step: name, workflowId: options.workflowId, outcome: entry.outcome, detail: entry.detail });
      if (!this.batched) await this.audit.write();
      throw error;
    }
  }

  /**
   * A child runbook that prepares one part of a larger recovery (it restores and validates; its parent
   * gates and cuts over) gives its parent what it built: the returned compensations travel in its output,
   * and the parent `adopt`s them, so whatever ends the parent removes them.
   */
  handOver(): CompensationDefinition<A>[] {
    return this.compensations.handOver(workflowInfo().parent?.workflowId ?? 'the parent runbook');
  }

  /** Registers what a child runbook handed over as this runbook's own compensations (newest last). */
  adopt(step: string, definitions: readonly CompensationDefinition<A>[]): void {
    for (const definition of definitions) this.compensations.register(step, definition);
  }

  /** Each recovered system's tier and objectives (seed 002), from the plan; undefined before the plan is read. */
  systemObjectives(): Record<RecoveredSystem, SystemObjective> | undefined {
    return this.plan?.systems;
  }

  /**
   * What a step changed that no compensation puts back (a promotion cannot be undone): if the runbook
   * stops before it completes, the operator is told it is left as it is, and what to do about it.
   */
  leftAsItIsIfStopped(note: string): void {
    this.leftAsItIs.push(note);
  }

  /** The cutover is verified: the RTO clock stops here. */
  cutoverVerified(): void {
    this.measures.cutoverVerified();
  }

  /**
   * Records the recovery point: the newest committed record found in the recovered database (an activity
   * reads it) against the failure/target time. RPO = targetTime − newestCommittedAt.
   */
  recordRecoveryPoint(newestCommittedAt: string, targetTime: string): void {
    this.measures.recordRecoveryPoint(newestCommittedAt, targetTime);
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
      timeline: this.timeline.copy(),
      openGates: gates.filter((g) => g.status === 'open'),
      gates,
      rto: this.measures.rto(),
      rpo: this.measures.rpo(),
      compensations: this.compensations.copyReports(),
      ...(this.aborts.accepted ? { abort: { ...this.aborts.accepted } } : {}),
      ...(this.refusals.count ? { refusedMessages: this.refusals.count } : {}),
      ...(this.verdict ? { verdict: this.verdict } : {}),
      ...(this.verdictDetail ? { verdictDetail: this.verdictDetail } : {}),
    };
  }

  compensationFailures() {
    return this.compensations.failures();
  }

  // ---- the run's start, body and end, driven by runRunbook ----

  /** @internal The search attributes and the run's details, set before anything else happens. */
  announce(): void {
    this.searchAttributes.set([DrScenario, this.scenario], [DrEnvironment, this.input.environment], [DrIncidentId, this.input.incidentId], [DrStatus, 'starting']);
    this.searchAttributes.flush();
    setCurrentDetails(this.details());
  }

  /** @internal The status query, the gates' votes, and abort (by Update, and by Signal for the Web UI). */
  registerHandlers(): void {
    setHandler(statusQuery, () => this.status());
    this.gates.registerVoteHandlers();
    this.unrecordedAlertNotes = registerAlertNotes(this.timeline, this.audit, this.batched);
    this.aborts.registerHandlers();
  }

  /** @internal Runs the scenario body and everything around it; returns the verdict and output. */
  async execute<O>(gatesNeeded: readonly string[], body: (runbook: this) => Promise<O>): Promise<{ output?: O; error?: unknown }> {
    this.scope = new CancellationScope({ cancellable: true });
    if (this.aborts.accepted) this.scope.cancel();
    try {
      const output = await this.scope.run(async () => {
        // Nothing is built for a name that is not there (a mistyped rollback target, a replica that does
        // not exist, the DR tool's own audit database): the input's targets are checked before any step.
        const reads = startReads(this.scenario, this.input.environment, this.secured ? this.targets?.(this.input) : undefined);
        try {
          this.plan = await reads.plan;
        } finally {
          this.planSettled = true;
        }
        const missing = gatesNeeded.filter((g) => !(g in this.plan!.gates));
        if (missing.length) {
          throw ApplicationFailure.create({
            type: FailureType.InvalidPlan,
            nonRetryable: true,
            message: `the worker config has no approval gate ${missing.map((g) => `"${g}"`).join(', ')} for scenario ${this.scenario}: add approvals.gates.${missing[0]} (approvers, quorum) to the config`,
          });
        }
        this.gates.usePlan(this.plan.gates, this.plan.drill?.authentication);
        if (this.secured) {
          // An abort that arrived while the runbook started is decided before anything runs.
          if (this.aborts.inFlight) await condition(() => this.aborts.inFlight === 0);
          this.throwIfAborted();
        }
        await reads.targetsChecked();
        this.setCurrent(undefined, 'running');
        this.audit.record(this.input.startedBy, 'runbook-started', { scenario: this.scenario, mode: this.mode, environment: this.input.environment, incidentId: this.input.incidentId });
        const opened = { kind: 'incident-opened', runbook: this.ref(), startedBy: this.input.startedBy } as const;
        if (this.batched) {
          // People are told beside the first step; later notifications queue behind this one.
          this.notifySafely(opened).catch(() => undefined);
        } else {
          await this.audit.write();
          await this.notifySafely(opened);
        }
        return body(this);
      });
      this.verdict = 'completed';
      return { output };
    } catch (error) {
      if (error instanceof RunbookEnded) {
        this.verdict = error.verdict;
        this.verdictDetail = error.detail;
      } else if (isCancellation(error)) {
        const abort = this.aborts.accepted;
        this.verdict = abort ? 'aborted' : 'cancelled';
        this.verdictDetail = abort ? `aborted by ${abort.by}: ${abort.reason}` : 'the workflow was cancelled';
      } else {
        this.verdict = 'failed';
        this.verdictDetail = errorText(error);
      }
      return { error };
    }
  }

  /** @internal Compensations (newest first, never cancelled), the last timeline and audit entries, the final status. */
  async finish(): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      this.gates.freeze(`the runbook has ended (${this.verdict}); no more votes are taken`);
      // Votes and aborts whose proofs the worker is still checking are decided (refused now) and recorded first.
      if (this.secured && (this.proofs.inFlight || this.aborts.inFlight)) await condition(() => this.proofs.inFlight === 0 && this.aborts.inFlight === 0);
      this.gates.closeOpen();
      const cleanup = this.mode === 'drill' || this.verdict !== 'completed';
      if (cleanup && this.compensations.outstanding) {
        this.setCurrent('compensating', 'compensating');
        await this.compensations.runAll();
      }
      this.timeline.cancelUnfinished();
      if (this.verdict !== 'completed' && this.leftAsItIs.length && patched(LEFT_AS_IT_IS_PATCH)) {
        const left = this.leftAsItIs.join('; ');
        this.timeline.add({ step: 'left as it is', outcome: 'retired', detail: left }, true);
        this.audit.record('runbook', 'left-as-it-is', { notes: [...this.leftAsItIs] });
        this.verdictDetail = `${this.verdictDetail ?? this.verdict}. Left as it is: ${left}`;
      }
      this.phase = 'finished';
      this.currentStep = undefined;
      this.timeline.add({ step: 'runbook ended', outcome: this.verdict === 'completed' ? 'succeeded' : this.verdict === 'aborted' ? 'aborted' : this.verdict === 'cancelled' ? 'cancelled' : 'failed', detail: `${this.verdict}${this.verdictDetail ? `: ${this.verdictDetail}` : ''}` }, true);
      this.audit.record('runbook', 'runbook-ended', { verdict: this.verdict, detail: this.verdictDetail ?? null, compensationFailures: this.compensations.failures().map((c) => c.name), ...(this.secured ? { refusedMessages: this.refusals.count } : {}), ...(this.unrecordedAlertNotes() ? { unrecordedAlertNotes: this.unrecordedAlertNotes() } : {}) });
      this.searchAttributes.set([DrStatus, this.verdict!]);
      setCurrentDetails(this.details());
      if (this.batched) {
        // The end is told and written at once.
        await Promise.all([this.announceEnd(), this.audit.write().catch(() => undefined)]);
        // A notification that failed just now left an entry of its own.
        await this.audit.write().catch(() => undefined);
      } else {
        await this.announceEnd();
        await this.audit.write().catch(() => undefined);
      }
      this.searchAttributes.flush();
    });
  }

  private announceEnd(): Promise<void> {
    return this.plan ? this.notifySafely({ kind: 'resolved', runbook: this.ref(), verdict: this.verdict!, ...(this.verdictDetail ? { detail: this.verdictDetail } : {}) }) : Promise.resolve();
  }

  private async refuseStep(step: string, reason: string): Promise<never> {
    this.timeline.add({ step, outcome: 'refused', detail: reason }, true);
    this.audit.record('runbook', 'step-refused', { step, reason });
    if (!this.batched) await this.audit.write();
    throw ApplicationFailure.create({ type: FailureType.ProductionStepRefused, message: reason, nonRetryable: true });
  }

  private throwIfAborted(): void {
    this.aborts.throwIfAborted();
  }

  private notifySafely(notification: Notification): Promise<void> {
    return this.notifications.send(notification);
  }

  private setCurrent(step: string | undefined, phase: RunbookPhase): void {
    const statusChanged = phase !== this.phase;
    this.currentStep = step;
    this.phase = phase;
    if (statusChanged) this.searchAttributes.set([DrStatus, phase]);
    setCurrentDetails(this.details());
  }

  /** What the Web UI shows on the run's page: set by the run itself, however it was started. */
  private details(): string {
    return runDetails({ scenario: this.scenario, input: this.input, phase: this.phase, currentStep: this.currentStep, verdict: this.verdict, verdictDetail: this.verdictDetail, gates: this.gates.views() });
  }

  private ref(): RunbookRef {
    return { workflowId: this.workflowId, scenario: this.scenario, environment: this.input.environment, incidentId: this.input.incidentId, mode: this.mode };
  }
}
