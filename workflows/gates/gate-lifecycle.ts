import { ApplicationFailure, condition, isCancellation, setHandler } from '@temporalio/workflow';
import { seconds } from '../../contracts/durations';
import { errorText } from '../../contracts/error-text';
import { FailureType } from '../../contracts/failure-types';
import type { Notification, RunbookRef } from '../../contracts/notifications';
import type { EscalationTier, GatePlan, VoteAuthentication } from '../../contracts/runbook-plan';
import type { GateStatus, GateView, GateVote, GateVoteOutcome, RunbookPhase, Verdict } from '../../contracts/runbook-status';
import type { AuditTrail } from '../audit-trail';
import { approveSignal, approveUpdate, rejectSignal, rejectUpdate } from '../messages';
import type { MessageRefusals } from '../message-refusals';
import type { Timeline } from '../timeline';
import { proofDetail, proofSummary, type ProofChecks } from '../vote-proofs';
import { ApprovalGates, type VoteKind } from './gate-state';
import { describeAuthentication, effectiveAuthentication } from './proof-rules';

/** Thrown inside the runbook to end it with a verdict other than failure (rejected, timed out). */
export class RunbookEnded extends Error {
  constructor(readonly verdict: Verdict, readonly detail: string) {
    super(detail);
  }
}

/** What a gate needs from the runbook it belongs to. */
export interface GateHost {
  readonly scenario: string;
  readonly startedBy: string;
  readonly mode: 'real' | 'drill';
  readonly timeline: Timeline;
  readonly audit: AuditTrail;
  /** New runs write the audit trail beside a gate's notifications, and once a decision is needed; older runs wrote it at every turn. */
  readonly batched: boolean;
  /** The plan's drill policy approves gates in drill mode. */
  drillPolicyApproves(): boolean;
  throwIfAborted(): void;
  setCurrent(step: string | undefined, phase: RunbookPhase): void;
  /** Sends a notification; one that cannot be sent goes on the timeline and does not stop the runbook. */
  notify(notification: Notification): Promise<void>;
  ref(): RunbookRef;
  /** Called just before the gate starts a timer (the runbook's pending search attributes go out first). */
  beforeTimer(): void;
  /**
   * Runs since votes carry proofs (patched 'vote-proofs'): every vote, Signal or Update, is accepted as a
   * message and decided in the handler (its proof checked by the worker), so every refusal is recorded.
   */
  readonly secured: boolean;
  readonly refusals: MessageRefusals;
  readonly proofs: ProofChecks;
}

/** A refused Update answers its caller with this failure (the handler recorded the refusal first). */
export function voteRefused(reason: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.VoteRefused, message: reason, nonRetryable: true });
}

/**
 * A runbook's approval gates, their whole life in one place: opening one (is it in the plan, can its
 * quorum be reached at all), the drill policy, the votes that arrive by Update or Signal (each refusal on
 * the timeline and in the audit trail), escalation while nobody decides, and the decision: approved, or
 * the runbook ends rejected or timed out, failing closed. The pure rules are in ApprovalGates.
 */
export class GateKeeper {
  private gates: ApprovalGates;

  constructor(private readonly host: GateHost) {
    this.gates = new ApprovalGates({}, host.startedBy);
  }

  /** The plan's gates, once it is loaded; in a drill with the proof the drill config asks for. */
  usePlan(plans: Record<string, GatePlan>, drillAuthentication?: VoteAuthentication): void {
    const effective = this.host.secured
      ? Object.fromEntries(Object.entries(plans).map(([name, plan]) => [name, { ...plan, authentication: effectiveAuthentication(plan.authentication, this.host.mode, drillAuthentication) }]))
      : plans;
    this.gates = new ApprovalGates(effective, this.host.startedBy);
  }

  anyApproved(): boolean {
    return this.gates.anyApproved();
  }

  views(): GateView[] {
    return this.gates.views();
  }

  /** From now on every vote is refused with this reason; open gates close (the runbook is ending). */
  freeze(reason: string): void {
    this.gates.freeze(reason);
  }

  closeOpen(): void {
    this.gates.closeOpen(new Date().toISOString());
  }

  /**
   * A refused Update is answered to its caller and, by Temporal's design, leaves no trace in history (the
   * validator runs before anything is recorded), so it cannot reach the timeline or the audit trail
   * deterministically. A refused Signal is in history, so it goes on both.
   */
  registerVoteHandlers(): void {
    for (const [kind, update, signal] of [['approve', approveUpdate, approveSignal], ['reject', rejectUpdate, rejectSignal]] as const) {
      if (this.host.secured) {
        setHandler(update, (vote) => this.castVote(kind, vote, 'update'));
        // A Signal has no one to answer: its refusal is recorded, and nothing it carries can fail the runbook.
        setHandler(signal, (vote) => this.castVote(kind, vote, 'signal').then(() => undefined, () => undefined));
        continue;
      }
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
          this.host.timeline.add({ step: `${kind} signal from ${who}`, outcome: 'refused', detail: refusal }, true);
          this.host.audit.record(who, `${kind}-refused`, { gate: typeof vote?.gate === 'string' ? vote.gate : null, reason: refusal, via: 'signal' });
          if (!this.host.batched) this.host.audit.writeInBackground();
          return;
        }
        this.acceptVote(kind, vote);
      });
    }
  }

  /**
   * Opens a gate and waits for its decision, escalating per the plan. Returns when approved; a rejection
   * or the deadline ends the runbook (approval-rejected / approval-timed-out), failing closed.
   */
  async pass(name: string): Promise<void> {
    const { host } = this;
    if (!this.gates.has(name)) {
      throw ApplicationFailure.create({ type: FailureType.InvalidPlan, nonRetryable: true, message: `gate "${name}" is not in this runbook's plan (scenario ${host.scenario})` });
    }
    host.throwIfAborted();
    if (host.mode === 'drill' && host.drillPolicyApproves()) return this.approveByDrillPolicy(name);
    const plan = this.gates.plan(name);
    const starter = host.startedBy.trim().toLowerCase();
    const eligible = plan.approvers.filter((a) => !(plan.twoPersonRule && a.trim().toLowerCase() === starter));
    if (eligible.length < plan.quorum) {
      // Waiting hours for a quorum nobody can reach helps no one at 3 a.m.: say so now.
      throw ApplicationFailure.create({
        type: FailureType.InvalidPlan,
        nonRetryable: true,
        message: `gate "${name}" can never be approved: it needs ${plan.quorum} approvals but only ${eligible.length} listed approver(s) other than the starter ${host.startedBy} may approve (two-person rule); start the runbook as someone else or list more approvers`,
      });
    }
    const openedAtMs = Date.now();
    this.gates.open(name, openedAtMs);
    const view = this.gates.view(name);
    const proofNeeded = host.secured && plan.authentication ? `; each vote needs ${describeAuthentication(plan.authentication)}` : '';
    const relaxed = host.secured && plan.relaxations?.length ? `; config relaxes: ${plan.relaxations.join('; ')}` : '';
    const entry = host.timeline.add({ step: `gate ${name}`, outcome: 'waiting', detail: `needs ${plan.quorum} of ${plan.approvers.join(', ')}${plan.twoPersonRule ? ` (not ${host.startedBy}: two-person rule)` : ''}${proofNeeded}${relaxed}; fails closed at ${view.deadlineAt}` });
    host.setCurrent(`approval gate "${name}"`, 'waiting-for-approval');
    host.audit.record('runbook', 'gate-opened', { gate: name, approvers: plan.approvers, quorum: plan.quorum, twoPersonRule: plan.twoPersonRule, deadlineAt: view.deadlineAt, ...(host.secured ? { authentication: plan.authentication ?? 'none', relaxations: plan.relaxations ?? [] } : {}) });
    let status: GateStatus;
    try {
      // The trail shows the gate open before anyone is asked to decide it.
      await this.writeAuditAnd(() => host.notify({ kind: 'approval-needed', runbook: host.ref(), gate: name, approvers: plan.approvers, quorum: plan.quorum, deadlineAt: view.deadlineAt! }));
      status = await this.waitForDecision(name, openedAtMs, (tier) => this.escalate(name, tier, view.openedAt!, view.deadlineAt!));
    } catch (error) {
      host.timeline.end(entry, isCancellation(error) ? 'cancelled' : 'failed', errorText(error));
      throw error;
    }
    const decided = this.gates.view(name);
    if (status === 'approved') {
      host.timeline.end(entry, 'approved', `approved by ${decided.approvals.map((v) => v.approver).join(', ')}`);
    } else if (status === 'rejected') {
      host.timeline.end(entry, 'rejected', `rejected by ${decided.rejection!.approver}${decided.rejection!.comment ? `: ${decided.rejection!.comment}` : ''}`);
    } else {
      host.timeline.end(entry, 'timed-out', `no decision by ${decided.deadlineAt} (${decided.approvals.length} of ${plan.quorum} approvals): failing closed`);
    }
    host.audit.record('runbook', 'gate-decided', { gate: name, status, approvals: decided.approvals.map((v) => v.approver), ...(decided.rejection ? { rejectedBy: decided.rejection.approver } : {}) });
    host.setCurrent(undefined, 'running');
    if (!host.batched) await host.audit.write();
    if (status === 'rejected') throw new RunbookEnded('approval-rejected', `gate "${name}" ${entry.detail}`);
    if (status !== 'approved') throw new RunbookEnded('approval-timed-out', `gate "${name}": ${entry.detail}`);
  }

  /** A drill's gate, approved by the drill policy: on the timeline and in the audit trail like any decision. */
  private async approveByDrillPolicy(name: string): Promise<void> {
    const at = new Date().toISOString();
    this.gates.open(name, Date.now());
    this.gates.apply('approve', { gate: name, approver: 'drill-policy', comment: 'drill mode: approved by the drill policy (approvals.drill.autoApprove)' }, at);
    this.host.timeline.add({ step: `gate ${name}`, outcome: 'approved', detail: 'approved by the drill policy (drill mode)' }, true);
    this.host.audit.record('drill-policy', 'gate-decided', { gate: name, status: 'approved', approvals: ['drill-policy'] });
    if (!this.host.batched) await this.host.audit.write();
  }

  /**
   * A vote, by Update or Signal (runs since votes carry proofs): the rules first (shape, gate open, listed,
   * two-person rule, a proof of the right kind), then the proof checked by the worker, then the rules again
   * (the gate may have been decided while the worker checked). A refusal is recorded, then the Update is
   * answered with it; an Update that passes returns the gate's tally.
   */
  private async castVote(kind: VoteKind, raw: unknown, via: 'signal' | 'update'): Promise<GateVoteOutcome> {
    const refuse = (reason: string): never => {
      const vote = raw as Partial<GateVote> | null;
      throw voteRefused(this.host.refusals.record(kind, via, vote?.approver, reason, { gate: vote?.gate }));
    };
    // A signature seen before is a replay, whoever it now claims to be from: said before anything else.
    const replayed = this.host.proofs.replayRefusal(raw);
    if (replayed) return refuse(replayed);
    const early = this.gates.refusal(kind, raw);
    if (early) return refuse(early);
    const vote = raw as GateVote;
    const plan = this.gates.plan(vote.gate);
    const authentication = plan.authentication ?? 'none';
    const shape = this.host.proofs.precheck(authentication, vote);
    if (shape) return refuse(shape);
    const principal = this.gates.listedName(vote.gate, vote.approver);
    const proof = await this.host.proofs.check(authentication, principal, kind, vote.gate, vote.approver, vote.comment ?? '', vote);
    if (!proof.ok) return refuse(proof.reason);
    const late = this.gates.refusal(kind, raw);
    if (late) return refuse(late);
    return this.acceptVote(kind, vote, proof);
  }

  private acceptVote(kind: VoteKind, vote: GateVote, proof?: Parameters<typeof proofSummary>[0]) {
    const at = new Date().toISOString();
    const outcome = this.gates.apply(kind, vote, at, proof ? proofSummary(proof) : undefined);
    const by = vote.approver.trim();
    const proven = proof && proof.proof.method !== 'none' ? ` (${proof.proof.method === 'ssh' ? `SSH signature, ${proof.proof.fingerprint}` : 'one-time code'})` : '';
    this.host.timeline.add({ step: `gate ${vote.gate}: ${kind} from ${by}`, outcome: kind === 'approve' ? 'approved' : 'rejected', ...(vote.comment || proven ? { detail: `${vote.comment ?? ''}${proven}`.trim() } : {}) }, true);
    this.host.audit.record(by, kind === 'approve' ? 'gate-approved' : 'gate-rejected', { gate: vote.gate, comment: vote.comment ?? null, gateStatus: outcome.status, ...(proof ? { proof: proofDetail(proof) } : {}) });
    if (!this.host.batched) this.host.audit.writeInBackground();
    return outcome;
  }

  /**
   * Waits at an open gate until it is decided, escalating at each tier (measured from the gate's opening),
   * then fails closed at the deadline. Returns the final status: approved, rejected or timed-out.
   */
  private async waitForDecision(name: string, openedAtMs: number, escalate: (tier: EscalationTier) => Promise<void>): Promise<GateStatus> {
    const { gates } = this;
    const plan = gates.plan(name);
    const decided = () => gates.status(name) !== 'open';
    const tiers = [...plan.escalation].filter((t) => t.afterMs < plan.deadlineMs).sort((a, b) => a.afterMs - b.afterMs);
    for (const tier of tiers) {
      const wait = openedAtMs + tier.afterMs - Date.now();
      if (wait > 0 && (await this.waitUntil(decided, wait, `gate ${name}: escalate to ${tier.audience} after ${seconds(tier.afterMs)} s without a decision`))) return gates.status(name);
      if (decided()) return gates.status(name);
      gates.markEscalated(name, tier.audience);
      await escalate(tier);
      if (decided()) return gates.status(name);
    }
    const remaining = openedAtMs + plan.deadlineMs - Date.now();
    if (remaining > 0 && (await this.waitUntil(decided, remaining, `gate ${name}: deadline, fails closed without a decision`))) return gates.status(name);
    if (decided()) return gates.status(name);
    gates.timeOut(name, new Date().toISOString());
    return 'timed-out';
  }

  /** A named timer the Web UI shows with its summary: what the runbook waits for. */
  private waitUntil(decided: () => boolean, ms: number, summary: string): Promise<boolean> {
    this.host.beforeTimer();
    return condition(decided, ms, { summary });
  }

  private async escalate(gate: string, tier: EscalationTier, openedAt: string, deadlineAt: string): Promise<void> {
    this.host.timeline.add({ step: `escalation: gate ${gate}`, outcome: 'notified', detail: `${tier.audience} notified after ${seconds(tier.afterMs)} s without a decision` }, true);
    this.host.audit.record('runbook', 'gate-escalated', { gate, audience: tier.audience, afterSeconds: seconds(tier.afterMs) });
    await this.writeAuditAnd(() => this.host.notify({ kind: 'escalation', runbook: this.host.ref(), gate, audience: tier.audience, waitingSince: openedAt, deadlineAt }));
  }

  /** The trail is written, then people are told (older runs), or both at once (new runs). */
  private async writeAuditAnd(tell: () => Promise<void>): Promise<void> {
    if (!this.host.batched) {
      await this.host.audit.write();
      await tell();
      return;
    }
    await Promise.all([this.host.audit.write(), tell()]);
  }
}
