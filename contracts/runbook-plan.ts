// The plan a runbook follows: its gates (who decides, how many, how long, who hears about a wait) and its
// objectives. An activity reads it from the worker config when the runbook starts, so the answer is in
// history and a later config change never breaks replay.

export interface EscalationTier {
  /** Milliseconds after the gate opened. */
  afterMs: number;
  /** Who is notified at this tier, e.g. "technical-team". */
  audience: string;
}

/**
 * What a vote must carry to count: an SSH signature over the vote statement (`dr approve --key`), a
 * one-time code (TOTP, for the Web UI's Signal form), either, or nothing (only where the config says so).
 */
export type VoteAuthentication = 'ssh' | 'totp' | 'ssh-or-totp' | 'none';
export const voteAuthentications: readonly VoteAuthentication[] = ['ssh', 'totp', 'ssh-or-totp', 'none'];

export interface GatePlan {
  approvers: string[];
  /** Distinct approvals needed (M of the N approvers). */
  quorum: number;
  /** The runbook's starter may not approve. */
  twoPersonRule: boolean;
  escalation: EscalationTier[];
  /** Milliseconds after the gate opened at which it fails closed. */
  deadlineMs: number;
  /** The proof a vote needs. Plans recorded before votes carried proofs have none: they took none. */
  authentication?: VoteAuthentication;
  /** Where the config relaxes a default (the two-person rule, proofs): said at the gate when it opens. */
  relaxations?: string[];
}

/** Who may abort the runbook, and the proof an abort needs. */
export interface AbortPlan {
  /** The incident commanders (config approvals.incidentCommanders; default: every approver of the scenario's gates). */
  commanders: string[];
  authentication: VoteAuthentication;
}

/** Recovery time and recovery point objectives, in seconds. */
export interface Objectives {
  rtoSeconds: number;
  rpoSeconds: number;
}

/** The systems seed 002 recovers, each with its own tier and RPO. */
export type RecoveredSystem = 'database' | 'cache' | 'files';

/** One system's objectives: the RTO of its tier and its own RPO, in seconds. */
export interface SystemObjective {
  tier: string;
  rtoSeconds: number;
  rpoSeconds: number;
}

export interface RunbookPlan {
  scenario: string;
  environment: string;
  gates: Record<string, GatePlan>;
  /** How gates decide in drill mode: the drill policy approves, or the gate's approvers do (with this proof, when set). */
  drill?: { autoApprove: boolean; authentication?: VoteAuthentication };
  /** Plans recorded before aborts were checked have none: anyone could abort them. */
  abort?: AbortPlan;
  objectives: Objectives;
  /** Per recovered system (seed 002's tiers); plans read before tiers existed have none. */
  systems?: Record<RecoveredSystem, SystemObjective>;
}
