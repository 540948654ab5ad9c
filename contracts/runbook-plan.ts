// The plan a runbook follows: its gates (who decides, how many, how long, who hears about a wait) and its
// objectives. An activity reads it from the worker config when the runbook starts, so the answer is in
// history and a later config change never breaks replay.

export interface EscalationTier {
  /** Milliseconds after the gate opened. */
  afterMs: number;
  /** Who is notified at this tier, e.g. "technical-team". */
  audience: string;
}

export interface GatePlan {
  approvers: string[];
  /** Distinct approvals needed (M of the N approvers). */
  quorum: number;
  /** The runbook's starter may not approve. */
  twoPersonRule: boolean;
  escalation: EscalationTier[];
  /** Milliseconds after the gate opened at which it fails closed. */
  deadlineMs: number;
}

/** Recovery time and recovery point objectives, in seconds. */
export interface Objectives {
  rtoSeconds: number;
  rpoSeconds: number;
}

export interface RunbookPlan {
  scenario: string;
  environment: string;
  gates: Record<string, GatePlan>;
  /** How gates decide in drill mode: the drill policy approves, or the gate's approvers do. */
  drill?: { autoApprove: boolean };
  objectives: Objectives;
  /** How often a running runbook sends a status update (config messages.statusUpdateEvery); absent in plans loaded before it existed. */
  statusUpdateEveryMs?: number;
}
