import { ApplicationFailure } from '@temporalio/common';
import { durationToMs } from '../contracts/durations';
import type { AbortPlan, GatePlan, RunbookPlan, VoteAuthentication } from '../contracts/runbook-plan';
import { FailureType } from '../contracts/failure-types';

/** A gate as the worker config writes it (durations as text, e.g. "15 minutes"). */
export interface GateConfig {
  approvers: string[];
  quorum?: number;
  twoPersonRule?: boolean;
  escalation?: Array<{ after: string; notify: string }>;
  deadline?: string;
  authentication?: VoteAuthentication;
}

/** The parts of the worker config a plan is made of (the worker's parsed config has this shape). */
export interface RunbookPlanConfig {
  environment: string;
  approvals: {
    escalation: Array<{ after: string; notify: string }>;
    deadline: string;
    gates: Record<string, GateConfig>;
    scenarios: Record<string, { gates: Record<string, GateConfig> }>;
    drill: { autoApprove: boolean; authentication?: VoteAuthentication };
    /** Default 'ssh-or-totp': real runs need a proof unless the config says `none`. */
    authentication?: VoteAuthentication;
    incidentCommanders?: string[];
    abort?: { authentication?: VoteAuthentication };
  };
  objectives: {
    default: { rto: string; rpo: string };
    scenarios: Record<string, { rto?: string; rpo?: string }>;
  };
}

/** Without a word in the config, a vote needs a proof. */
const defaultAuthentication: VoteAuthentication = 'ssh-or-totp';

/**
 * The plan a runbook follows, read from the worker config when the runbook starts (so the answer is in
 * history and a later config change never breaks replay): its gates, who may abort, and its objectives.
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
      const scenarioGates = config.approvals.scenarios[input.scenario]?.gates ?? {};
      const gateConfigs: Record<string, GateConfig> = { ...config.approvals.gates, ...scenarioGates };
      const gates: Record<string, GatePlan> = {};
      for (const [name, gate] of Object.entries(gateConfigs)) {
        const where = name in scenarioGates ? `approvals.scenarios.${input.scenario}.gates.${name}` : `approvals.gates.${name}`;
        gates[name] = gatePlan(name, gate, where, config.approvals);
      }
      const objectives = { ...config.objectives.default, ...(config.objectives.scenarios[input.scenario] ?? {}) };
      return {
        scenario: input.scenario,
        environment: input.environment,
        gates,
        drill: { autoApprove: config.approvals.drill.autoApprove, ...(config.approvals.drill.authentication ? { authentication: config.approvals.drill.authentication } : {}) },
        abort: abortPlan(gates, config.approvals),
        objectives: { rtoSeconds: durationToMs(objectives.rto) / 1000, rpoSeconds: durationToMs(objectives.rpo) / 1000 },
      };
    },
  };
}

function gatePlan(name: string, gate: GateConfig, where: string, approvals: RunbookPlanConfig['approvals']): GatePlan {
  const approvers = [...new Set(gate.approvers.map((a) => a.trim()))];
  const quorum = gate.quorum ?? 1;
  if (quorum > approvers.length) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidPlan,
      nonRetryable: true,
      message: `${where}.quorum: ${quorum} approvals needed but only ${approvers.length} approver(s) listed`,
    });
  }
  const escalation = (gate.escalation ?? approvals.escalation).map((t) => ({ afterMs: durationToMs(t.after), audience: t.notify }));
  const authentication = gate.authentication ?? approvals.authentication ?? defaultAuthentication;
  const relaxations: string[] = [];
  // Every gate comes before a change to production: whoever started the runbook may not approve it,
  // unless the config says so, and then the gate says so too.
  const twoPersonRule = gate.twoPersonRule ?? true;
  if (!twoPersonRule) relaxations.push(`two-person rule off (${where}.twoPersonRule: false): the runbook's starter may approve`);
  if (authentication === 'none') relaxations.push(`votes need no proof (${gate.authentication ? `${where}.authentication` : 'approvals.authentication'}: none)`);
  return {
    approvers,
    quorum,
    twoPersonRule,
    escalation: escalation.sort((a, b) => a.afterMs - b.afterMs),
    deadlineMs: durationToMs(gate.deadline ?? approvals.deadline),
    authentication,
    ...(relaxations.length ? { relaxations } : {}),
  };
}

function abortPlan(gates: Record<string, GatePlan>, approvals: RunbookPlanConfig['approvals']): AbortPlan {
  const commanders = approvals.incidentCommanders ?? [...new Set(Object.values(gates).flatMap((g) => g.approvers))];
  return { commanders: [...new Set(commanders.map((c) => c.trim()))], authentication: approvals.abort?.authentication ?? approvals.authentication ?? defaultAuthentication };
}
