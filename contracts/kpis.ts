// The seeds' recovery KPIs (seed 000: MTTR, backup success rate, recovery-test success; seed 002: recovery
// time and data loss against the objectives) over a period, from what the runbooks already record: their
// reports (measured RTO/RPO and objectives) and the closed runs' statuses in Temporal visibility. Pure.

/** One closed runbook, as its report (or its result) and its visibility entry tell it. */
export interface KpiRun {
  workflowId: string;
  scenario: string;
  environment: string;
  incidentId: string;
  mode: 'real' | 'drill';
  verdict: string;
  /** When the incident was declared (the RTO clock's start). */
  declaredAt?: string;
  /** When the run closed (visibility's CloseTime). */
  closedAt?: string;
  rto?: { achievedSeconds?: number; objectiveSeconds?: number; cutoverVerifiedAt?: string };
  rpo?: { achievedSeconds?: number; objectiveSeconds?: number };
}

/** Closed runs of a workflow type by Temporal's execution status name ("Completed", "Failed", …). */
export type StatusCounts = Record<string, number>;

export interface KpiInput {
  since: string;
  until: string;
  environment?: string;
  runs: KpiRun[];
  /** The restore test of each new backup (`backupWithBaseline`): its closed runs by status. */
  recoveryTests: StatusCounts;
  /** The backup workflows' closed runs: Completed when the backup set was taken (whatever its restore test found), else by status. */
  backups: StatusCounts;
}

/** A share and what it is computed from; `rate` is undefined when there was nothing to count. */
export interface Rate {
  succeeded: number;
  runs: number;
  rate?: number;
}

export interface ObjectiveOutcome {
  achievedSeconds?: number;
  objectiveSeconds?: number;
  /** undefined: not measured, or no objective to hold it against. */
  met?: boolean;
}

export interface DrillKpi {
  workflowId: string;
  scenario: string;
  environment: string;
  incidentId: string;
  /** When the drill's clock started (declaredAt), else when it closed: the chart's time axis. */
  at: string;
  verdict: string;
  /** Same rule as runDrill: completed, RTO met, RPO not missed. */
  passed: boolean;
  rto: ObjectiveOutcome;
  rpo: ObjectiveOutcome;
}

export interface ObjectiveTally {
  met: number;
  missed: number;
  unjudged: number;
}

export interface Kpis {
  since: string;
  until: string;
  environment?: string;
  /** Real runs that completed: declaredAt → close, averaged. `notRecovered` real runs ended otherwise. */
  mttr: { meanSeconds?: number; runs: number; notRecovered: number };
  /** Drills, oldest first. */
  drills: DrillKpi[];
  drillSuccess: Rate;
  rto: ObjectiveTally;
  rpo: ObjectiveTally;
  recoveryTests: Rate & { byStatus: StatusCounts };
  backups: Rate & { byStatus: StatusCounts };
}

const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

function outcome(measure: { achievedSeconds?: number; objectiveSeconds?: number } | undefined, measured: boolean): ObjectiveOutcome {
  const achieved = measured && finite(measure?.achievedSeconds) ? measure.achievedSeconds : undefined;
  const objective = finite(measure?.objectiveSeconds) && measure.objectiveSeconds > 0 ? measure.objectiveSeconds : undefined;
  return {
    ...(achieved !== undefined ? { achievedSeconds: achieved } : {}),
    ...(objective !== undefined ? { objectiveSeconds: objective } : {}),
    ...(achieved !== undefined && objective !== undefined ? { met: achieved <= objective } : {}),
  };
}

function rate(succeeded: number, runs: number): Rate {
  return { succeeded, runs, ...(runs > 0 ? { rate: succeeded / runs } : {}) };
}

/** Completed out of every closed run; a run continued as new is the same run going on, not an outcome. */
function statusRate(byStatus: StatusCounts): Rate & { byStatus: StatusCounts } {
  const counted = Object.entries(byStatus).filter(([status, n]) => status !== 'ContinuedAsNew' && n > 0);
  const runs = counted.reduce((sum, [, n]) => sum + n, 0);
  return { ...rate(byStatus.Completed ?? 0, runs), byStatus: Object.fromEntries(counted) };
}

function tally(outcomes: ObjectiveOutcome[]): ObjectiveTally {
  return {
    met: outcomes.filter((o) => o.met === true).length,
    missed: outcomes.filter((o) => o.met === false).length,
    unjudged: outcomes.filter((o) => o.met === undefined).length,
  };
}

const ms = (iso: string | undefined) => (iso ? Date.parse(iso) : Number.NaN);

/** The KPIs of the period from its closed runs. */
export function computeKpis(input: KpiInput): Kpis {
  const real = input.runs.filter((r) => r.mode === 'real');
  const recoveries = real
    .filter((r) => r.verdict === 'completed')
    .map((r) => (ms(r.closedAt) - ms(r.declaredAt)) / 1000)
    .filter((s) => Number.isFinite(s) && s >= 0);
  const meanSeconds = recoveries.length ? Math.round((recoveries.reduce((a, b) => a + b, 0) / recoveries.length) * 10) / 10 : undefined;

  const drills: DrillKpi[] = input.runs
    .filter((r) => r.mode === 'drill')
    .map((r) => {
      // An RTO counts only once the cutover was verified (as runDrill reads it); before that it is time spent, not a recovery.
      const rto = outcome(r.rto, Boolean(r.rto?.cutoverVerifiedAt));
      const rpo = outcome(r.rpo, true);
      return {
        workflowId: r.workflowId,
        scenario: r.scenario,
        environment: r.environment,
        incidentId: r.incidentId,
        at: r.declaredAt ?? r.closedAt ?? input.until,
        verdict: r.verdict,
        passed: r.verdict === 'completed' && rto.met === true && rpo.met !== false,
        rto,
        rpo,
      };
    })
    .sort((a, b) => a.at.localeCompare(b.at) || a.workflowId.localeCompare(b.workflowId));

  return {
    since: input.since,
    until: input.until,
    ...(input.environment ? { environment: input.environment } : {}),
    mttr: { ...(meanSeconds !== undefined ? { meanSeconds } : {}), runs: recoveries.length, notRecovered: real.length - recoveries.length },
    drills,
    drillSuccess: rate(drills.filter((d) => d.passed).length, drills.length),
    rto: tally(drills.map((d) => d.rto)),
    rpo: tally(drills.map((d) => d.rpo)),
    recoveryTests: statusRate(input.recoveryTests),
    backups: statusRate(input.backups),
  };
}

/** "97.5 % (39 of 40)", or "no runs". */
export function rateText(r: Rate): string {
  return r.rate === undefined ? 'no runs' : `${Math.round(r.rate * 1000) / 10} % (${r.succeeded} of ${r.runs})`;
}
