import { ApplicationFailure } from '@temporalio/workflow';
import type { GatePlan } from '../../contracts/runbook-plan';
import type { GateStatus, GateView, GateVote, GateVoteOutcome, GateVoteRecord, ProofSummary } from '../../contracts/runbook-status';
import { FailureType } from '../../contracts/failure-types';
import { controlCharacterIn, redactCredentials, safeText } from '../../contracts/safe-text';
import { isUnreadablePayload } from '../payload-converter';

export type VoteKind = 'approve' | 'reject';

interface GateState {
  name: string;
  plan: GatePlan;
  status: GateStatus;
  openedAtMs?: number;
  decidedAt?: string;
  approvals: GateVoteRecord[];
  rejection?: GateVoteRecord;
  escalated: string[];
}

const MAX_COMMENT = 1000;
/** Gates and approvers are names in the config: never longer than this. */
const MAX_NAME = 128;

/** Identities are compared trimmed and case-insensitively, so "Alice" cannot vote twice as "alice". */
function identity(name: string): string {
  return name.trim().toLowerCase();
}

/**
 * The approval gates of one runbook: who may approve, quorum (M distinct approvals of N listed), the
 * two-person rule, one rejection closes the gate. Pure state, no I/O: `refusal` is the synchronous
 * validator the Update handlers use, and the Signal handlers use it too (a refused signal is recorded).
 */
export class ApprovalGates {
  private readonly gates = new Map<string, GateState>();
  private frozen?: string;

  constructor(plans: Record<string, GatePlan>, private readonly startedBy: string) {
    for (const [name, plan] of Object.entries(plans)) {
      this.gates.set(name, { name, plan, status: 'pending', approvals: [], escalated: [] });
    }
  }

  has(name: string): boolean {
    return this.gates.has(name);
  }

  /** True once any gate of this run has been approved (a production-affecting step needs one). */
  anyApproved(): boolean {
    return [...this.gates.values()].some((g) => g.status === 'approved');
  }

  /**
   * Why this vote is refused, or undefined when it is acceptable. Never changes state. Whatever the
   * message carried appears in the reason only in a safe form (cut, escaped, redacted).
   */
  refusal(kind: VoteKind, vote: unknown): string | undefined {
    if (isUnreadablePayload(vote)) return `the ${kind} message could not be read (${safeText(vote.unreadablePayload, 200)}): send JSON {gate, approver, comment?}`;
    if (typeof vote !== 'object' || vote === null || Array.isArray(vote)) return `the ${kind} payload must be an object {gate, approver, comment?}`;
    const { gate, approver, comment } = vote as Partial<GateVote>;
    if (typeof gate !== 'string' || gate.trim() === '') return 'gate: required (the name of the gate)';
    if (typeof approver !== 'string' || approver.trim() === '') return 'approver: required (who is voting)';
    if (gate.length > MAX_NAME) return `gate: must be at most ${MAX_NAME} characters`;
    if (approver.length > MAX_NAME) return `approver: must be at most ${MAX_NAME} characters`;
    if (comment !== undefined && (typeof comment !== 'string' || comment.length > MAX_COMMENT)) return `comment: must be text of at most ${MAX_COMMENT} characters`;
    for (const [field, text] of [['gate', gate], ['approver', approver], ['comment', comment ?? '']] as const) {
      const control = controlCharacterIn(text);
      if (control) return `${field}: contains the control character ${control}; line breaks and other control characters are refused`;
      if (redactCredentials(text) !== text) return `${field}: carries a URL with a password in it; the trail is append-only, so leave the password out`;
    }
    if (this.frozen) return this.frozen;
    const state = this.gates.get(gate);
    const shownGate = safeText(gate, 80);
    if (!state) return `unknown gate "${shownGate}" (this runbook's gates: ${[...this.gates.keys()].join(', ') || 'none'})`;
    if (state.status === 'pending') return `gate "${gate}" is not open now: the runbook has not reached it`;
    if (state.status !== 'open') return `gate "${gate}" is already decided (${state.status})`;
    const who = identity(approver);
    const shownApprover = safeText(approver, 128);
    if (!state.plan.approvers.some((a) => identity(a) === who)) return `"${shownApprover}" is not on the approver list of gate "${gate}" (${state.plan.approvers.join(', ')})`;
    if (kind === 'approve' && state.plan.twoPersonRule && who === identity(this.startedBy)) {
      return `two-person rule: "${shownApprover}" started this runbook and may not approve gate "${gate}"`;
    }
    const previous = [...state.approvals, ...(state.rejection ? [state.rejection] : [])].find((v) => identity(v.approver) === who);
    if (previous) return `"${shownApprover}" has already voted on gate "${gate}" (at ${previous.at}); a second vote by the same person does not count`;
    return undefined;
  }

  /** The approver as the gate's plan lists them (the vote may spell them "Alice" or " alice "). */
  listedName(gate: string, approver: string): string {
    const who = identity(approver);
    return this.mustGet(gate).plan.approvers.find((a) => identity(a) === who) ?? approver.trim();
  }

  /** Applies a vote that `refusal` accepted (and whose proof, if the gate needs one, was checked). */
  apply(kind: VoteKind, vote: GateVote, at: string, proof?: ProofSummary): GateVoteOutcome {
    const state = this.mustGet(vote.gate);
    const record: GateVoteRecord = { approver: vote.approver.trim(), at, ...(vote.comment ? { comment: vote.comment } : {}), ...(proof ? { proof } : {}) };
    if (kind === 'reject') {
      state.rejection = record;
      this.decide(state, 'rejected', at);
    } else {
      state.approvals.push(record);
      if (state.approvals.length >= state.plan.quorum) this.decide(state, 'approved', at);
    }
    return this.outcome(state);
  }

  open(name: string, nowMs: number): void {
    const state = this.mustGet(name);
    if (state.status !== 'pending') throw ApplicationFailure.create({ type: FailureType.InvalidRunbook, nonRetryable: true, message: `gate "${name}" was already opened once in this run (${state.status}); a gate decides once` });
    state.status = 'open';
    state.openedAtMs = nowMs;
  }

  /** From now on every vote is refused with this reason (the runbook is aborted or ending). */
  freeze(reason: string): void {
    this.frozen ??= reason;
  }

  /** Closes every open gate, e.g. when the runbook is aborted while waiting. */
  closeOpen(at: string): void {
    for (const state of this.gates.values()) if (state.status === 'open') this.decide(state, 'closed', at);
  }

  timeOut(name: string, at: string): void {
    this.decide(this.mustGet(name), 'timed-out', at);
  }

  status(name: string): GateStatus {
    return this.mustGet(name).status;
  }

  plan(name: string): GatePlan {
    return this.mustGet(name).plan;
  }

  markEscalated(name: string, audience: string): void {
    this.mustGet(name).escalated.push(audience);
  }

  view(name: string): GateView {
    const s = this.mustGet(name);
    const voted = new Set([...s.approvals, ...(s.rejection ? [s.rejection] : [])].map((v) => identity(v.approver)));
    const starter = identity(this.startedBy);
    return {
      gate: s.name,
      status: s.status,
      approvers: [...s.plan.approvers],
      quorum: s.plan.quorum,
      twoPersonRule: s.plan.twoPersonRule,
      approvals: s.approvals.map((v) => ({ ...v })),
      ...(s.rejection ? { rejection: { ...s.rejection } } : {}),
      stillMayApprove: s.status === 'open' ? s.plan.approvers.filter((a) => !voted.has(identity(a)) && !(s.plan.twoPersonRule && identity(a) === starter)) : [],
      ...(s.openedAtMs !== undefined ? { openedAt: new Date(s.openedAtMs).toISOString(), deadlineAt: new Date(s.openedAtMs + s.plan.deadlineMs).toISOString() } : {}),
      ...(s.decidedAt ? { decidedAt: s.decidedAt } : {}),
      escalated: [...s.escalated],
      ...(s.plan.authentication ? { authentication: s.plan.authentication } : {}),
    };
  }

  views(): GateView[] {
    return [...this.gates.keys()].map((name) => this.view(name));
  }

  private outcome(state: GateState): GateVoteOutcome {
    return {
      gate: state.name,
      status: state.status,
      approvals: state.approvals.map((v) => v.approver),
      approvalsStillNeeded: state.status === 'open' ? Math.max(0, state.plan.quorum - state.approvals.length) : 0,
    };
  }

  private decide(state: GateState, status: GateStatus, at: string): void {
    state.status = status;
    state.decidedAt = at;
  }

  private mustGet(name: string): GateState {
    const state = this.gates.get(name);
    if (!state) throw ApplicationFailure.create({ type: FailureType.InvalidPlan, nonRetryable: true, message: `gate "${name}" is not in this runbook's plan` });
    return state;
  }
}
