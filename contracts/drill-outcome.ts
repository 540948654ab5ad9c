import type { RunbookResult } from './runbook-status';

// Whether a drill passed, in one place: runDrill decides its own verdict with it, and the worker's
// metrics export the same verdict for every runbook run in drill mode (dr_drill_last_passed).

export interface ObjectiveResult {
  objectiveSeconds: number;
  achievedSeconds?: number;
  /** undefined when the drill could not measure it (e.g. it failed before the cutover). */
  passed?: boolean;
}

/** A drill passes when the runbook completed, its RTO was measured within the objective and its RPO (if measured) too. */
export function drillOutcome(runbook: Pick<RunbookResult, 'verdict' | 'rto' | 'rpo'>): { passed: boolean; rto: ObjectiveResult; rpo: ObjectiveResult } {
  const rto: ObjectiveResult = { objectiveSeconds: runbook.rto.objectiveSeconds, ...(runbook.rto.cutoverVerifiedAt ? { achievedSeconds: runbook.rto.elapsedSeconds, passed: runbook.rto.withinObjective } : {}) };
  const rpo: ObjectiveResult = { objectiveSeconds: runbook.rpo.objectiveSeconds, ...(runbook.rpo.achievedSeconds !== undefined ? { achievedSeconds: runbook.rpo.achievedSeconds, passed: runbook.rpo.withinObjective } : {}) };
  return { passed: runbook.verdict === 'completed' && rto.passed === true && rpo.passed !== false, rto, rpo };
}
