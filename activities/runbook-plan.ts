import { ApplicationFailure } from '@temporalio/common';
import type { ApprovalsConfig, GateConfig, ObjectivesConfig } from '../worker/config';
import { durationToMs, workerConfigSchema } from '../worker/config';

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

export interface RunbookPlan {
  scenario: string;
  environment: string;
  gates: Record<string, GatePlan>;
  objectives: { rtoSeconds: number; rpoSeconds: number };
}

export interface RunbookPlanConfig {
  environment: string;
  approvals: ApprovalsConfig;
  objectives: ObjectivesConfig;
}

/** The config defaults: the seed's escalation tiers and objectives, and no gates. */
export function defaultRunbookPlanConfig(): RunbookPlanConfig {
  const { environment, approvals, objectives } = workerConfigSchema.parse({ databases: {} });
  return { environment, approvals, objectives };
}

/**
 * The plan a runbook follows, read from the worker config when the runbook starts (so the answer is in
 * history and a later config change never breaks replay): its gates and its objectives.
 */
export function createRunbookPlanActivities(config: RunbookPlanConfig) {
  return {
    async loadRunbookPlan(input: { scenario: string; environment: string }): Promise<RunbookPlan> {
      if (input.environment !== config.environment) {
        throw ApplicationFailure.create({
          type: 'WrongEnvironment',
          nonRetryable: true,
          message: `environment: this worker serves "${config.environment}", not "${input.environment}" (start the runbook on that environment's task queue)`,
        });
      }
      const gateConfigs: Record<string, GateConfig> = { ...config.approvals.gates, ...(config.approvals.scenarios[input.scenario]?.gates ?? {}) };
      const gates: Record<string, GatePlan> = {};
      for (const [name, gate] of Object.entries(gateConfigs)) gates[name] = gatePlan(name, gate, config.approvals);
      const objectives = { ...config.objectives.default, ...(config.objectives.scenarios[input.scenario] ?? {}) };
      return {
        scenario: input.scenario,
        environment: input.environment,
        gates,
        objectives: { rtoSeconds: durationToMs(objectives.rto) / 1000, rpoSeconds: durationToMs(objectives.rpo) / 1000 },
      };
    },
  };
}

function gatePlan(name: string, gate: GateConfig, approvals: ApprovalsConfig): GatePlan {
  const approvers = [...new Set(gate.approvers.map((a) => a.trim()))];
  const quorum = gate.quorum ?? 1;
  if (quorum > approvers.length) {
    throw ApplicationFailure.create({
      type: 'InvalidPlan',
      nonRetryable: true,
      message: `approvals.gates.${name}.quorum: ${quorum} approvals needed but only ${approvers.length} approver(s) listed`,
    });
  }
  const escalation = (gate.escalation ?? approvals.escalation).map((t) => ({ afterMs: durationToMs(t.after), audience: t.notify }));
  return {
    approvers,
    quorum,
    // The two-person rule is on by default for cutover gates: whoever started the runbook may not approve it.
    twoPersonRule: gate.twoPersonRule ?? name.startsWith('cutover'),
    escalation: escalation.sort((a, b) => a.afterMs - b.afterMs),
    deadlineMs: durationToMs(gate.deadline ?? approvals.deadline),
  };
}
