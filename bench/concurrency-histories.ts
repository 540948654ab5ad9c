import { readFileSync } from 'node:fs';
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** What one runbook's history says about its cost and about the path from its deciding vote to the next step. */
export interface RunbookHistoryFacts {
  workflowTasks: number;
  taskTimeouts: number;
  /** Workflow task schedule-to-start of every task: how long tasks waited for the worker. */
  taskWaitMs: number[];
  /** Activities scheduled, by type (local activities count under "local:<type>"). */
  activities: Record<string, number>;
  /**
   * The deciding vote's path: from the Update being sent (client clock) to the workflow task that took
   * it being scheduled (the bench client, the frontend and history: the vote reaching the server), then
   * to that task starting (waiting for the worker to poll it; toVoteTaskMs is both); from then to the next
   * step's activity being scheduled (the bookkeeping in between); from scheduled to started (the activity
   * queue). Undefined when the history does not show the path.
   */
  path?: { toVoteTaskMs: number; toVoteTaskScheduledMs: number; bookkeepingMs: number; activityQueueMs: number; workflowTasksBetween: number };
}

const timeOf = (event: HistoryEvent) => Number(event.eventTime?.seconds ?? 0) * 1000 + Math.round((event.eventTime?.nanos ?? 0) / 1e6);

function localActivityType(event: HistoryEvent): string | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  const data = marker.details?.data?.payloads?.[0]?.data;
  try {
    return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type ?? 'unknown' : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Reads the facts above from one history; `decidedAt` is when the deciding vote was sent, `nextActivity` the step after the gate. */
export function historyFacts(events: readonly HistoryEvent[], decidedAt: number | undefined, isNextStep: (event: HistoryEvent) => boolean): RunbookHistoryFacts {
  const facts: RunbookHistoryFacts = { workflowTasks: 0, taskTimeouts: 0, taskWaitMs: [], activities: {} };
  const scheduled = new Map<string, number>();
  const updates: { taskScheduledAt: number; taskStartedAt: number; index: number }[] = [];
  let lastTaskStarted: { at: number; scheduledAt: number; index: number } | undefined;
  let nextStep: { scheduledAt: number; index: number; id: string } | undefined;
  let nextStepStartedAt: number | undefined;
  events.forEach((event, index) => {
    const at = timeOf(event);
    if (event.workflowTaskScheduledEventAttributes) scheduled.set(String(event.eventId), at);
    const started = event.workflowTaskStartedEventAttributes;
    if (started) {
      const scheduledAt = scheduled.get(String(started.scheduledEventId)) ?? at;
      facts.taskWaitMs.push(at - scheduledAt);
      lastTaskStarted = { at, scheduledAt, index };
    }
    if (event.workflowTaskCompletedEventAttributes) facts.workflowTasks++;
    if (event.workflowTaskTimedOutEventAttributes) facts.taskTimeouts++;
    if (event.workflowExecutionUpdateAcceptedEventAttributes && lastTaskStarted) updates.push({ taskScheduledAt: lastTaskStarted.scheduledAt, taskStartedAt: lastTaskStarted.at, index });
    const activity = event.activityTaskScheduledEventAttributes;
    if (activity) {
      const type = activity.activityType?.name ?? 'unknown';
      facts.activities[type] = (facts.activities[type] ?? 0) + 1;
      if (!nextStep && isNextStep(event)) nextStep = { scheduledAt: at, index, id: String(event.eventId) };
    }
    if (nextStep && String(event.activityTaskStartedEventAttributes?.scheduledEventId ?? '') === nextStep.id) nextStepStartedAt = at;
    const local = localActivityType(event);
    if (local) facts.activities[`local:${local}`] = (facts.activities[`local:${local}`] ?? 0) + 1;
  });
  const vote = updates.filter((u) => nextStep && u.index < nextStep.index).at(-1);
  if (vote && nextStep && nextStepStartedAt !== undefined && decidedAt !== undefined) {
    const between = events.slice(vote.index, nextStep.index).filter((e) => e.workflowTaskCompletedEventAttributes).length;
    facts.path = { toVoteTaskMs: vote.taskStartedAt - decidedAt, toVoteTaskScheduledMs: vote.taskScheduledAt - decidedAt, bookkeepingMs: nextStep.scheduledAt - vote.taskStartedAt, activityQueueMs: nextStepStartedAt - nextStep.scheduledAt, workflowTasksBetween: between };
  }
  return facts;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The 1-minute load average, for the report beside every figure (the machine is shared). */
export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}
