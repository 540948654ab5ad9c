import { drillOutcome } from '../../contracts/drill-outcome';
import type { RunbookResult } from '../../contracts/runbook-status';
import type { GateWait, RunbookMeasurements } from '../ports/operations-metrics';

/** The approver the drill policy signs its approvals with (workflows/gates): nobody waited for it. */
const drillPolicy = 'drill-policy';

/**
 * What a finished run measured, for the metrics: the RTO and RPO of a run that verified its cutover, a
 * drill's verdict (the same one runDrill gives), and how long each gate people decided waited.
 */
export function runbookMeasurements(result: RunbookResult): RunbookMeasurements {
  const mode = result.mode === 'drill' ? 'drill' : 'incident';
  const gateWaits: GateWait[] = [];
  for (const gate of result.gates) {
    if (!gate.openedAt || !gate.decidedAt) continue;
    if (gate.status !== 'approved' && gate.status !== 'rejected' && gate.status !== 'timed-out') continue;
    if (gate.approvals.some((a) => a.approver === drillPolicy)) continue;
    const seconds = Math.max(0, (Date.parse(gate.decidedAt) - Date.parse(gate.openedAt)) / 1000);
    if (Number.isFinite(seconds)) gateWaits.push({ gate: gate.gate, decision: gate.status, seconds });
  }
  return {
    scenario: result.scenario,
    mode,
    ...(result.rto.cutoverVerifiedAt ? { recovery: { rtoSeconds: result.rto.elapsedSeconds, ...(result.rpo.achievedSeconds !== undefined ? { rpoSeconds: result.rpo.achievedSeconds } : {}) } } : {}),
    ...(mode === 'drill' ? { drillPassed: drillOutcome(result).passed } : {}),
    gateWaits,
  };
}
