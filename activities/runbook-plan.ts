import { ApplicationFailure } from '@temporalio/common';
import { durationToMs } from '../contracts/durations';
import type { AbortPlan, GatePlan, RecoveredSystem, RunbookPlan, SystemObjective, VoteAuthentication } from '../contracts/runbook-plan';
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
    /** RTO per tier, e.g. critical: 2 hours. */
    tiers?: Record<string, { rto: string }>;
    /** Each recovered system's tier and RPO. */
    systems?: Record<RecoveredSystem, { tier: string; rpo: string }>;
  };
}

// Seed 002: critical systems (the database, and the sessions that are authentication) within 2 hours,
// supporting ones (file storage) within 4; RPO 15 minutes for the database, 1 hour for Redis and files.
const seedTiers: Record<string, { rto: string }> = { critical: { rto: '2 hours' }, supporting: { rto: '4 hours' } };
const seedSystems: Record<RecoveredSystem, { tier: string; rpo: string }> = {
  database: { tier: 'critical', rpo: '15 minutes' },
  cache: { tier: 'critical', rpo: '1 hour' },
  files: { tier: 'supporting', rpo: '1 hour' },
};

/** Each system's objectives in seconds: the RTO of its tier, its own RPO. */
function systemObjectives(objectives: RunbookPlanConfig['objectives']): Record<RecoveredSystem, SystemObjective> {
  const tiers = objectives.tiers ?? seedTiers;
  const systems = objectives.systems ?? seedSystems;
  const of = (system: RecoveredSystem): SystemObjective => {
    const { tier, rpo } = systems[system];
    const rto = tiers[tier]?.rto;
    if (!rto) throw ApplicationFailure.create({ type: FailureType.InvalidPlan, nonRetryable: true, message: `objectives.systems.${system}.tier: "${tier}" is not in objectives.tiers` });
    return { tier, rtoSeconds: durationToMs(rto) / 1000, rpoSeconds: durationToMs(rpo) / 1000 };
  };
  return { database: of('database'), cache: of('cache'), files: of('files') };
}

/**
 * A scenario of one system (cache, files) is held to that system's tier and RPO, the whole recovery to
 * its slowest tier and its strictest RPO, unless the config names objectives for the scenario itself.
 */
function tieredDefaults(scenario: string, systems: Record<RecoveredSystem, SystemObjective>): { rtoSeconds: number; rpoSeconds: number } | undefined {
  if (scenario === 'cache' || scenario === 'files') return { rtoSeconds: systems[scenario].rtoSeconds, rpoSeconds: systems[scenario].rpoSeconds };
  if (scenario === 'complete-system-failure') {
    const all = Object.values(systems);
    return { rtoSeconds: Math.max(...all.map((s) => s.rtoSeconds)), rpoSeconds: Math.min(...all.map((s) => s.rpoSeconds)) };
  }
  return undefined;
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
      const own = config.objectives.scenarios[input.scenario] ?? {};
      const systems = systemObjectives(config.objectives);
      const tiered = tieredDefaults(input.scenario, systems);
      const seconds = (value: string) => durationToMs(value) / 1000;
      return {
        scenario: input.scenario,
        environment: input.environment,
        gates,
        drill: { autoApprove: config.approvals.drill.autoApprove, ...(config.approvals.drill.authentication ? { authentication: config.approvals.drill.authentication } : {}) },
        abort: abortPlan(gates, config.approvals),
        objectives: {
          rtoSeconds: own.rto ? seconds(own.rto) : tiered?.rtoSeconds ?? seconds(config.objectives.default.rto),
          rpoSeconds: own.rpo ? seconds(own.rpo) : tiered?.rpoSeconds ?? seconds(config.objectives.default.rpo),
        },
        systems,
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
