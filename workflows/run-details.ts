import type { RunbookInput } from '../contracts/inputs';
import type { GateView, RunbookPhase, Verdict } from '../contracts/runbook-status';

/**
 * The run's current details (Markdown) for the Web UI's run page: scenario, incident, mode and who started
 * it first (set by the run itself at its start, so they show however it was started: the Web UI form,
 * the temporal CLI, dr, a schedule), then where it is now, then who may decide each open gate.
 */
export function runDetails(run: { scenario: string; input: Pick<RunbookInput, 'incidentId' | 'environment' | 'mode' | 'startedBy'>; phase: RunbookPhase; currentStep?: string; verdict?: Verdict; verdictDetail?: string; gates: GateView[] }): string {
  const { input } = run;
  const lines = [
    `**${input.mode === 'drill' ? 'DRILL: ' : ''}${run.scenario}** · ${input.incidentId} · ${input.mode === 'drill' ? 'drill (production untouched)' : 'real run'} · ${input.environment} · started by ${input.startedBy}`,
    run.verdict && run.phase === 'finished' ? `Verdict: **${run.verdict}**${run.verdictDetail ? ` — ${run.verdictDetail}` : ''}` : `Current step: **${run.currentStep ?? run.phase}**`,
  ];
  for (const gate of run.gates.filter((g) => g.status === 'open')) {
    lines.push(`Gate "${gate.gate}": ${gate.approvals.length}/${gate.quorum} approvals; may approve: ${gate.stillMayApprove.join(', ') || 'nobody left'}; deadline ${gate.deadlineAt}`);
  }
  return lines.join('\n\n');
}
