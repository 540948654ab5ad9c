import { ApplicationFailure, ChildWorkflowFailure, ChildWorkflowCancellationType, executeChild, ParentClosePolicy, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { describeIssues } from '../contracts/inputs';
import type { RunbookResult } from '../contracts/runbook-status';
import { runDrillInput, scenarios, type RunDrillInput, type ScenarioName } from './scenarios';
import { DrEnvironment, DrIncidentId, DrScenario, DrStatus } from './search-attributes';
import { FailureType } from '../contracts/failure-types';
import { drillOutcome, type ObjectiveResult } from '../contracts/drill-outcome';

export { runDrillInput, type RunDrillInput, type ObjectiveResult };

export interface DrillResult {
  scenario: ScenarioName;
  runbookWorkflowId: string;
  verdict: RunbookResult['verdict'];
  /** The drill passes when the runbook completed and every measured objective was met. */
  passed: boolean;
  objectives: { rto: ObjectiveResult; rpo: ObjectiveResult };
  runbook: RunbookResult;
}

/** Scenario inputs a scheduled drill cannot be given by a person: filled from the drill's own clock. */
function drillDefaults(scenario: ScenarioName, startedAtMs: number): Record<string, unknown> {
  switch (scenario) {
    case 'accidental-deletion':
      // Rehearse a restore to just before the drill started: the hardest target, as recent as it gets
      // (the platform seals the WAL archive up to now before it restores).
      return { targetTime: new Date(startedAtMs - 5_000).toISOString() };
    default:
      return {};
  }
}

/**
 * A drill: any scenario in drill mode against isolated targets (the runner refuses every step that would
 * change production), measured against the objectives, always cleaned up (the runbook's compensations run
 * in drill mode whatever the outcome). A drill that fails or misses an objective fails this workflow, so
 * its schedule pauses until a person looks.
 */
export async function runDrill(rawInput: RunDrillInput): Promise<DrillResult> {
  const parsed = runDrillInput.safeParse(rawInput);
  if (!parsed.success) throw ApplicationFailure.create({ type: FailureType.InvalidInput, nonRetryable: true, message: describeIssues(parsed.error) });
  const { scenario: name, ...rest } = parsed.data;
  const scenario = scenarios[name];
  const info = workflowInfo();
  const incidentId = typeof rest.incidentId === 'string' ? rest.incidentId : `DRILL-${info.startTime.toISOString().slice(0, 10)}`;
  const childInput = { ...drillDefaults(name, info.startTime.getTime()), ...rest, incidentId, mode: 'drill' as const };
  // The scenario's own schema names a wrong field before anything starts.
  const checked = scenario.input.safeParse(childInput);
  if (!checked.success) throw ApplicationFailure.create({ type: FailureType.InvalidInput, nonRetryable: true, message: describeIssues(checked.error) });

  upsertSearchAttributes([
    { key: DrScenario, value: `drill:${name}` },
    { key: DrEnvironment, value: checked.data.environment },
    { key: DrIncidentId, value: incidentId },
    { key: DrStatus, value: 'running' },
  ]);
  const runbookWorkflowId = `${info.workflowId}-${name}`;
  // What the run page shows however the drill was started (a schedule, the Web UI, dr): the drill and its runbook.
  setCurrentDetails(`**DRILL: ${name}** · ${incidentId} · ${checked.data.environment} · started by ${parsed.data.startedBy}\n\nRunbook: \`${runbookWorkflowId}\` (isolated targets; production untouched)`);
  let runbook: RunbookResult;
  try {
    runbook = await executeChild(scenario.workflowType, {
      workflowId: runbookWorkflowId,
      args: [childInput],
      // Cancelling the drill cancels the runbook and waits for its cleanup.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
      staticSummary: `DRILL ${name} · ${incidentId} · started by ${parsed.data.startedBy}`,
    });
  } catch (error) {
    const details = error instanceof ChildWorkflowFailure ? (error.cause as ApplicationFailure | undefined)?.details : undefined;
    if (!details?.[0]) throw error;
    runbook = details[0] as RunbookResult;
  }
  const { passed, rto, rpo } = drillOutcome(runbook);
  const result: DrillResult = { scenario: name, runbookWorkflowId, verdict: runbook.verdict, passed, objectives: { rto, rpo }, runbook };
  upsertSearchAttributes([{ key: DrStatus, value: passed ? 'drill-passed' : 'drill-failed' }]);
  setCurrentDetails(`**DRILL: ${name}** · ${incidentId} · ${passed ? 'passed' : 'FAILED'}: RTO ${rto.achievedSeconds ?? '?'} s of ${rto.objectiveSeconds} s, RPO ${rpo.achievedSeconds ?? '?'} s of ${rpo.objectiveSeconds} s\n\nRunbook: \`${runbookWorkflowId}\` ended ${runbook.verdict}`);
  if (!passed) {
    const why = runbook.verdict !== 'completed' ? `the runbook ended ${runbook.verdict}${runbook.verdictDetail ? `: ${runbook.verdictDetail}` : ''}` : `RTO ${rto.achievedSeconds ?? '?'} s of ${rto.objectiveSeconds} s, RPO ${rpo.achievedSeconds ?? '?'} s of ${rpo.objectiveSeconds} s`;
    throw ApplicationFailure.create({ type: FailureType.DrillFailed, nonRetryable: true, message: `drill of ${name} failed: ${why}`, details: [result] });
  }
  return result;
}
