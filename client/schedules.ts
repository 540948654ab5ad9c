import { ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleSummary } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';

// What every schedule of ours shares (drills, backups): created with a memo of what the person typed,
// listed by its id prefix, paused and unpaused with a note, triggered with overlap SKIP, deleted.

export interface ScheduleView {
  scheduleId: string;
  /** What it runs for: the scenario of a drill, the database of a backup (from the memo, else the id). */
  subject?: string;
  cron?: string;
  timeZone?: string;
  paused: boolean;
  note?: string;
  nextRuns: string[];
  recentRuns: Array<{ scheduledAt: string; workflowId: string }>;
}

export interface ScheduleRequest {
  scheduleId: string;
  /** Standard cron, e.g. "0 3 1 * *" (03:00 on the 1st of each month). */
  cron: string;
  /** IANA time zone the cron is read in; default UTC. */
  timeZone?: string;
  workflowType: string;
  taskQueue: string;
  workflowId: string;
  input: Record<string, unknown>;
  summary: string;
  /** A failed run pauses the schedule, so a person looks before the next one. */
  pauseOnFailure: boolean;
  createdBy: string;
  note?: string;
  /** Kept beside the cron in the memo: what the schedule is for (e.g. { scenario }, { database }). */
  memo: Record<string, string>;
  /** Set on every run it starts, before its first task (so even a run closed before it ran is found by them). */
  searchAttributes?: SearchAttributePair[];
}

/** Creates a Temporal Schedule with overlap SKIP (a run still going means the next one waits for next time). */
export async function createSchedule(client: Client, request: ScheduleRequest) {
  return client.schedule.create({
    scheduleId: request.scheduleId,
    spec: { cronExpressions: [request.cron], timezone: request.timeZone ?? 'UTC' },
    action: { type: 'startWorkflow', workflowType: request.workflowType, taskQueue: request.taskQueue, workflowId: request.workflowId, args: [request.input], staticSummary: request.summary, ...(request.searchAttributes ? { typedSearchAttributes: request.searchAttributes } : {}) },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, pauseOnFailure: request.pauseOnFailure, catchupWindow: '1 hour' },
    state: { note: request.note ?? `created by ${request.createdBy}` },
    // The server keeps the cron only as compiled calendars; the memo keeps what the person typed.
    memo: { ...request.memo, cron: request.cron, timeZone: request.timeZone ?? 'UTC', createdBy: request.createdBy },
  });
}

export function scheduleViewOf(s: ScheduleSummary | ScheduleDescription, subjectKey: string, prefix: string): ScheduleView {
  const memo = (s.memo ?? {}) as Record<string, string | undefined>;
  return {
    scheduleId: s.scheduleId,
    subject: memo[subjectKey] ?? s.scheduleId.replace(prefix, ''),
    cron: memo.cron,
    timeZone: memo.timeZone,
    paused: s.state.paused,
    note: s.state.note,
    nextRuns: s.info.nextActionTimes.slice(0, 3).map((d) => d.toISOString()),
    recentRuns: s.info.recentActions.map((a) => ({ scheduledAt: a.scheduledAt.toISOString(), workflowId: a.action.workflow.workflowId })),
  };
}

/** Every schedule whose id starts with `prefix`, with its next runs and its recent ones. */
export async function listSchedules(client: Client, prefix: string, subjectKey: string): Promise<ScheduleView[]> {
  const views: ScheduleView[] = [];
  for await (const summary of client.schedule.list()) {
    if (summary.scheduleId.startsWith(prefix)) views.push(scheduleViewOf(summary, subjectKey, prefix));
  }
  return views.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

export async function pauseSchedule(client: Client, scheduleId: string, note: string) {
  await client.schedule.getHandle(scheduleId).pause(note);
}

export async function unpauseSchedule(client: Client, scheduleId: string, note: string) {
  await client.schedule.getHandle(scheduleId).unpause(note);
}

/** Runs it now. Overlap SKIP, said explicitly: trigger() would otherwise allow a second run beside a running one. */
export async function triggerSchedule(client: Client, scheduleId: string) {
  await client.schedule.getHandle(scheduleId).trigger(ScheduleOverlapPolicy.SKIP);
}

export async function deleteSchedule(client: Client, scheduleId: string) {
  await client.schedule.getHandle(scheduleId).delete();
}
