import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { RunbookInput } from '../workflows/inputs';
import type { RunbookResult } from '../workflows/messages';

/** The one line the Web UI's workflow list shows for a runbook (no secrets, no customer data). */
export function runbookSummary(scenario: string, input: Pick<RunbookInput, 'incidentId' | 'environment' | 'mode' | 'startedBy'>): string {
  return `${input.mode === 'drill' ? 'DRILL ' : ''}${scenario} · ${input.incidentId} · ${input.environment} · started by ${input.startedBy}`;
}

export interface StartRunbookOptions<I extends Pick<RunbookInput, 'incidentId' | 'environment' | 'mode' | 'startedBy'>> {
  /** The workflow type, e.g. "recoverFromServerFailure". */
  workflowType: string;
  /** The scenario name, e.g. "server-failure" (used in the summary and the default workflow id). */
  scenario: string;
  /** Already validated with the workflow's schema (defaults applied). */
  input: I;
  taskQueue: string;
  workflowId?: string;
}

/** Starts a runbook with its static summary set, so the Web UI's list says what each run is. */
export async function startRunbook<I extends Pick<RunbookInput, 'incidentId' | 'environment' | 'mode' | 'startedBy'>, O = unknown>(
  client: Client,
  options: StartRunbookOptions<I>,
): Promise<WorkflowHandle<(input: I) => Promise<RunbookResult<O>>>> {
  return client.workflow.start<(input: I) => Promise<RunbookResult<O>>>(options.workflowType, {
    taskQueue: options.taskQueue,
    workflowId: options.workflowId ?? `${options.scenario}-${options.input.incidentId}-${randomUUID().slice(0, 8)}`,
    args: [options.input],
    staticSummary: runbookSummary(options.scenario, options.input),
  });
}
