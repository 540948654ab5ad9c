import { ApplicationFailure } from '@temporalio/common';
import { durationToMs } from '../contracts/durations';
import type { GatePlan, RunbookPlan } from '../contracts/runbook-plan';
import { FailureType } from '../contracts/failure-types';


/** A gate as the worker config writes it (durations as text, e.g. "15 minutes"). */
export interface GateConfig {
  approvers: string[];
  quorum?: number;
  twoPersonRule?: boolean;
  escalation?: Array<{ after: string; notify: string }>;
  deadline?: string;
}

/** The parts of the worker config a plan is made of (the worker's parsed config has this shape). */
export interface RunbookPlanConfig {
  environment: string;
  approvals: {
    escalation: Array<{ after: string; notify: string }>;
    deadline: string;
    gates: Record<string, GateConfig>;
    scenarios: Record<string, { gates: Record<string, GateConfig> }>;
    drill: { autoApprove: boolean };
  };
  objectives: {
    default: { rto: string; rpo: string };
    scenarios: Record<string, { rto?: string; rpo?: string }>;
  };
  messages?: { statusUpdateEvery?: string };
}

/**
 * The plan a runbook follows, read from the worker config when the runbook starts (so the answer is in
 * history and a later config change never breaks replay): its gates and its objectives.
 */
export function createRunbookPlanActivities(config: RunbookPlanConfig | undefined) {
  return {
    async loadRunbookPlan(input: { scenario: string; environment: string }): Promise<RunbookPlan> {
      if (!config) throw ApplicationFailure.create({ type: FailureType.InvalidPlan, nonRetryable: true, message: 'no runbook plan is wired: the worker passes its config (environment, approvals, objectives) to the activities' });
      if (input.environment !== config.environment) {
        throw ApplicationFailure.create({
          type: FailureType.WrongEnvironment,
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
        drill: { autoApprove: config.approvals.drill.autoApprove },
        objectives: { rtoSeconds: durationToMs(objectives.rto) / 1000, rpoSeconds: durationToMs(objectives.rpo) / 1000 },
        // The seed plan's cadence unless the config says otherwise.
        statusUpdateEveryMs: durationToMs(config.messages?.statusUpdateEvery ?? '30 minutes'),
      };
    },
  };
}

function gatePlan(name: string, gate: GateConfig, approvals: RunbookPlanConfig['approvals']): GatePlan {
  const approvers = [...new Set(gate.approvers.map((a) => a.trim()))];
  const quorum = gate.quorum ?? 1;
  if (quorum > approvers.length) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidPlan,
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
