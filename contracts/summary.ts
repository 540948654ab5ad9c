import type { RunbookInput } from './inputs';

/** The one line the Web UI's workflow list shows for a runbook (no secrets, no customer data). */
export function runbookSummary(scenario: string, input: Pick<RunbookInput, 'incidentId' | 'environment' | 'mode' | 'startedBy'>): string {
  return `${input.mode === 'drill' ? 'DRILL ' : ''}${scenario} · ${input.incidentId} · ${input.environment} · started by ${input.startedBy}`;
}
