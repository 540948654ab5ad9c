import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { RunbookInput } from '../contracts/inputs';
import { errorText } from '../contracts/error-text';
import { runbookSummary } from '../contracts/summary';
import { DrEnvironment, DrIncidentId, DrScenario, DrStatus } from '../contracts/search-attributes';
import { abortUpdate, approveUpdate, rejectUpdate, statusQuery } from '../workflows/messages';
import type { AbortRequest, GateVote, GateVoteOutcome, RunbookResult, RunbookStatus } from '../contracts/runbook-status';

export { runbookSummary };

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
): Promise<WorkflowHandleWithFirstExecutionRunId<(input: I) => Promise<RunbookResult<O>>>> {
  return client.workflow.start<(input: I) => Promise<RunbookResult<O>>>(options.workflowType, {
    taskQueue: options.taskQueue,
    workflowId: options.workflowId ?? `${options.scenario}-${options.input.incidentId}-${randomUUID().slice(0, 8)}`,
    args: [options.input],
    staticSummary: runbookSummary(options.scenario, options.input),
  });
}

/** The run's page in the Temporal Web UI (base from DR_WEB_UI_URL, default the dev server's UI). */
export function webUiLink(namespace: string, workflowId: string, runId?: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = (env.DR_WEB_UI_URL || 'http://127.0.0.1:8233').replace(/\/+$/, '');
  const page = `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${page}/${encodeURIComponent(runId)}/history` : page;
}

/** Why a message to a runbook was refused (validator, unknown id, already ended); one line for a person. */
export class RunbookRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunbookRefusal';
  }
}

export class RunbookNotFound extends Error {
  constructor(readonly workflowId: string) {
    super(`no runbook with workflow id "${workflowId}"`);
    this.name = 'RunbookNotFound';
  }
}

const CLOSED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT', 'CONTINUED_AS_NEW']);

/** The validator's own words: the Update's failure message, without the SDK's wrapping. */
const refusalOf = (error: unknown) => errorText(error, { innermost: true }).trim();

async function describeOrNotFound(client: Client, workflowId: string) {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError') throw new RunbookNotFound(workflowId);
    throw error;
  }
}

/** The run a message is for (its run id goes into a signed vote's statement). */
export async function describeRunbook(client: Client, workflowId: string): Promise<{ runId: string; status: string }> {
  const description = await describeOrNotFound(client, workflowId);
  if (CLOSED.has(description.status.name)) throw new RunbookRefusal(`the runbook has already ended (${description.status.name.toLowerCase()})`);
  return { runId: description.runId, status: description.status.name };
}

/** Sends an Update; a validator refusal, or a runbook that has already ended, becomes a RunbookRefusal. */
async function sendUpdate<R>(client: Client, workflowId: string, send: (handle: WorkflowHandle) => Promise<R>): Promise<R> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    return await send(handle);
  } catch (error) {
    if ((error as Error).name === 'WorkflowUpdateFailedError') throw new RunbookRefusal(refusalOf(error));
    const description = await describeOrNotFound(client, workflowId);
    if (CLOSED.has(description.status.name)) throw new RunbookRefusal(`the runbook has already ended (${description.status.name.toLowerCase()})`);
    throw error;
  }
}

/** Approve or reject a gate through the Update (synchronous: the answer says whether the vote counted). */
export function voteOnGate(client: Client, workflowId: string, kind: 'approve' | 'reject', vote: GateVote): Promise<GateVoteOutcome> {
  return sendUpdate(client, workflowId, (h) => h.executeUpdate(kind === 'approve' ? approveUpdate : rejectUpdate, { args: [vote] }));
}

/** Abort a runbook through the Update: it stops at the next safe point and undoes what it built. */
export function abortRunbook(client: Client, workflowId: string, request: AbortRequest): Promise<{ accepted: true }> {
  return sendUpdate(client, workflowId, (h) => h.executeUpdate(abortUpdate, { args: [request] }));
}

export interface RunbookSnapshot {
  status: RunbookStatus;
  /** The workflow has closed; `result` is its RunbookResult when it completed or failed with one. */
  closed: boolean;
  workflowStatus: string;
  result?: RunbookResult;
  runId: string;
}

/** The RunbookResult of a closed run: its return value, or details[0] of its RunbookFailed failure. */
async function closedResult(handle: WorkflowHandle): Promise<RunbookResult | undefined> {
  try {
    return (await handle.result()) as RunbookResult;
  } catch (error) {
    for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
      const details = (e as { details?: unknown[] }).details;
      const first = Array.isArray(details) ? details[0] : undefined;
      if (first && typeof first === 'object' && 'timeline' in first && 'verdict' in first) return first as RunbookResult;
    }
    return undefined;
  }
}

/**
 * The runbook's status: the `status` Query while it runs; once closed, its result (no worker needed), or
 * the Query answered by replay when the run ended without one (cancelled, terminated).
 */
export async function readRunbookStatus(client: Client, workflowId: string): Promise<RunbookSnapshot> {
  const description = await describeOrNotFound(client, workflowId);
  const handle = client.workflow.getHandle(workflowId, description.runId);
  const closed = CLOSED.has(description.status.name);
  if (closed) {
    const result = await closedResult(handle);
    if (result) return { status: result, result, closed, workflowStatus: description.status.name, runId: description.runId };
  }
  const status = await handle.query(statusQuery);
  return { status, closed, workflowStatus: description.status.name, runId: description.runId };
}

export interface RunbookListing {
  workflowId: string;
  runId: string;
  workflowType: string;
  scenario?: string;
  incidentId?: string;
  environment?: string;
  drStatus?: string;
  workflowStatus: string;
  startTime: string;
  closeTime?: string;
}

/** Quotes a value for a visibility query. */
function quoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Runbooks by their search attributes, newest first: open ones unless `all`, optionally one scenario. */
export async function listRunbooks(client: Client, options: { all?: boolean; scenario?: string; limit?: number } = {}): Promise<RunbookListing[]> {
  const clauses = ['DrScenario IS NOT NULL'];
  if (!options.all) clauses.push(`ExecutionStatus = 'Running'`);
  if (options.scenario) clauses.push(`DrScenario = ${quoted(options.scenario)}`);
  const listings: RunbookListing[] = [];
  const limit = options.limit ?? 200;
  for await (const w of client.workflow.list({ query: clauses.join(' AND ') })) {
    const attributes = w.typedSearchAttributes;
    listings.push({
      workflowId: w.workflowId,
      runId: w.runId,
      workflowType: w.type,
      scenario: attributes.get(DrScenario),
      incidentId: attributes.get(DrIncidentId),
      environment: attributes.get(DrEnvironment),
      drStatus: attributes.get(DrStatus),
      workflowStatus: w.status.name,
      startTime: w.startTime.toISOString(),
      ...(w.closeTime ? { closeTime: w.closeTime.toISOString() } : {}),
    });
    if (listings.length >= limit) break;
  }
  return listings.sort((a, b) => b.startTime.localeCompare(a.startTime));
}
