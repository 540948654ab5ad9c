// What a running runbook reports and answers: its status, timeline, gates, clocks and result. Shared by
// the workflows (which keep it), the activities (the report renders it), the `dr` CLI and the tests.

/**
 * The proof a person attaches to a vote or an abort: an SSH signature over the vote statement
 * (lib/vote-statement.ts) made at `time`, or a one-time code from their authenticator app.
 */
export interface VoteProof {
  /** Armored SSHSIG ("-----BEGIN SSH SIGNATURE-----…") over the statement, namespace dr-runbooks-vote@v1. */
  signature?: string;
  /** The statement's time (ISO 8601 UTC with milliseconds), as signed. */
  time?: string;
  /** A one-time code (TOTP), e.g. "492039". */
  code?: string;
}

/** A vote on an approval gate. `approver` is a person's identity as listed in the worker config. */
export interface GateVote extends VoteProof {
  gate: string;
  approver: string;
  comment?: string;
}

export interface AbortRequest extends VoteProof {
  by: string;
  reason: string;
}

/** How a vote that counted was proven (what the status and the report show; the audit trail keeps the whole proof). */
export interface ProofSummary {
  method: 'ssh' | 'totp' | 'none';
  /** The SSH key's fingerprint (SHA256:…). */
  fingerprint?: string;
}

export type GateStatus = 'pending' | 'open' | 'approved' | 'rejected' | 'timed-out' | 'closed';

export interface GateVoteRecord {
  approver: string;
  at: string;
  comment?: string;
  proof?: ProofSummary;
}

export interface GateView {
  gate: string;
  status: GateStatus;
  approvers: string[];
  quorum: number;
  twoPersonRule: boolean;
  approvals: GateVoteRecord[];
  rejection?: GateVoteRecord;
  /** Listed approvers who have not voted and are not excluded by the two-person rule. */
  stillMayApprove: string[];
  openedAt?: string;
  deadlineAt?: string;
  decidedAt?: string;
  /** Audiences already notified by escalation, in order. */
  escalated: string[];
  /** The proof a vote needs (absent for runs from before votes carried proofs). */
  authentication?: string;
}

/** What an accepted `approve`/`reject` Update returns. */
export interface GateVoteOutcome {
  gate: string;
  status: GateStatus;
  approvals: string[];
  approvalsStillNeeded: number;
}

export type Verdict = 'completed' | 'failed' | 'aborted' | 'cancelled' | 'approval-rejected' | 'approval-timed-out';

export type TimelineOutcome =
  | 'running'
  | 'waiting'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'refused'
  | 'approved'
  | 'rejected'
  | 'timed-out'
  | 'notified'
  | 'aborted'
  | 'retired';

/** One line of the runbook's timeline; times are workflow time, ISO 8601. */
export interface TimelineEntry {
  step: string;
  startedAt: string;
  endedAt?: string;
  outcome: TimelineOutcome;
  detail?: string;
}

export interface CompensationReport {
  name: string;
  /** The step that registered it. */
  step: string;
  outcome: 'succeeded' | 'failed';
  detail?: string;
}

export interface RtoClock {
  objectiveSeconds: number;
  /** When the incident was declared (input), or the workflow start. */
  declaredAt: string;
  /** When the cutover was verified; RTO stops here. */
  cutoverVerifiedAt?: string;
  /** Seconds from declaredAt to cutoverVerifiedAt, or to the workflow's current time while still running. */
  elapsedSeconds: number;
  /** Known once verified, or as soon as the objective is already exceeded. */
  withinObjective?: boolean;
}

export interface RpoMeasure {
  objectiveSeconds: number;
  /** Newest committed record found in the recovered database. */
  newestCommittedAt?: string;
  /** The failure / recovery target time. */
  targetTime?: string;
  achievedSeconds?: number;
  withinObjective?: boolean;
}

export type RunbookPhase = 'starting' | 'running' | 'waiting-for-approval' | 'compensating' | 'finished';

export interface RunbookStatus {
  workflowId: string;
  scenario: string;
  mode: 'real' | 'drill';
  environment: string;
  incidentId: string;
  startedBy: string;
  phase: RunbookPhase;
  currentStep?: string;
  timeline: TimelineEntry[];
  openGates: GateView[];
  gates: GateView[];
  rto: RtoClock;
  rpo: RpoMeasure;
  compensations: CompensationReport[];
  abort?: { by: string; reason: string; at: string; proof?: ProofSummary };
  /** Messages (votes, aborts) refused so far: each is on the timeline and in the audit trail. */
  refusedMessages?: number;
  verdict?: Verdict;
  /** Why the runbook ended the way it did (failed step, rejection, timeout, abort reason). */
  verdictDetail?: string;
}

/** The runbook's result: its final status plus the scenario's own output (when it got that far). */
export interface RunbookResult<T = unknown> extends RunbookStatus {
  verdict: Verdict;
  output?: T;
  /** Where the report was written (object store keys), or why it could not be. */
  report?: { markdownKey: string; jsonKey: string } | { error: string };
}
