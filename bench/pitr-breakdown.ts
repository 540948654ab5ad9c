import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { temporalBinary } from '../stack/paths';
import { formatSeconds } from './report-table';

// Where a runbook's seconds go between its start and the end of its restore step, read from what the
// run left behind (untimed, after the try): the workflow history's event times (each workflow task's
// wait and work, each activity's schedule-to-start and run, the local activities' markers) and the
// recovered instance's log (PostgreSQL's own times for its start, the pause at the target, the promotion).

interface HistoryEvent {
  eventId: string;
  eventTime: string;
  eventType: string;
  activityTaskScheduledEventAttributes?: { activityType: { name: string } };
  activityTaskStartedEventAttributes?: { scheduledEventId: string };
  activityTaskCompletedEventAttributes?: { scheduledEventId: string };
  markerRecordedEventAttributes?: { markerName: string; details?: { data?: { payloads: Array<{ data: string }> } } };
}

/** The run's history as the CLI shows it (the same JSON the recorded histories are in). */
export async function workflowHistory(server: { address: string; namespace: string }, workflowId: string): Promise<HistoryEvent[]> {
  const { stdout } = await promisify(execFile)(temporalBinary(), ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', server.address, '--namespace', server.namespace], { maxBuffer: 64 * 1024 * 1024 });
  return (JSON.parse(stdout) as { events: HistoryEvent[] }).events;
}

/** Nanosecond ISO times (the CLI's) to ms. */
const ms = (iso: string) => Date.parse(iso.replace(/(\.\d{3})\d+Z$/, '$1Z'));
const at = (t: number, from: number) => `+${((t - from) / 1000).toFixed(2)}`;

/**
 * One line per workflow task and activity up to `untilMs` (the restore step's end), each with its
 * time from the client's start call: `wft +a→+b (wait w, work k)`, `name +s (start after x) → +e (run r)`.
 */
export function historyBreakdown(events: HistoryEvent[], startedMs: number, untilMs: number): string[] {
  const lines: Array<{ t: number; line: string }> = [];
  const scheduled = new Map<string, { name: string; at: number; started?: number }>();
  let task: { scheduled: number; started?: number } | undefined;
  let tasks = 0;
  let taskWaitMs = 0;
  let taskWorkMs = 0;
  const first = events[0] ? ms(events[0].eventTime) : startedMs;
  lines.push({ t: first, line: `start call → workflow started ${formatSeconds(first - startedMs)}` });
  for (const e of events) {
    const t = ms(e.eventTime);
    if (t > untilMs + 1000) break;
    switch (e.eventType) {
      case 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED': task = { scheduled: t }; break;
      case 'EVENT_TYPE_WORKFLOW_TASK_STARTED': if (task) task.started = t; break;
      case 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED':
        if (task?.started !== undefined) {
          tasks++;
          taskWaitMs += task.started - task.scheduled;
          taskWorkMs += t - task.started;
          lines.push({ t: task.scheduled, line: `workflow task ${at(task.scheduled, startedMs)} → ${at(t, startedMs)} (waited ${formatSeconds(task.started - task.scheduled)}, worked ${formatSeconds(t - task.started)})` });
        }
        task = undefined;
        break;
      default: {
        const a = e.activityTaskScheduledEventAttributes;
        if (a) scheduled.set(e.eventId, { name: a.activityType.name, at: t });
        const s = e.activityTaskStartedEventAttributes;
        if (s) { const x = scheduled.get(s.scheduledEventId); if (x) x.started = t; }
        const c = e.activityTaskCompletedEventAttributes;
        const done = c && scheduled.get(c.scheduledEventId);
        if (done) lines.push({ t: done.at, line: `  ${done.name} ${at(done.at, startedMs)} (started after ${formatSeconds((done.started ?? done.at) - done.at)}) → ${at(t, startedMs)} (ran ${formatSeconds(t - (done.started ?? done.at))})` });
        const m = e.markerRecordedEventAttributes;
        if (m?.markerName === 'core_local_activity' && m.details?.data) {
          const d = JSON.parse(Buffer.from(m.details.data.payloads[0]!.data, 'base64').toString('utf8')) as { activity_type: string; complete_time?: { seconds: number; nanos: number }; original_schedule_time?: { seconds: number; nanos: number } };
          const toMs = (x?: { seconds: number; nanos: number }) => (x ? Number(x.seconds) * 1000 + Math.round(x.nanos / 1e6) : undefined);
          const from = toMs(d.original_schedule_time);
          const to = toMs(d.complete_time);
          lines.push({ t: from ?? t, line: `  ${d.activity_type} (local)${from !== undefined && to !== undefined ? ` ${at(from, startedMs)} → ${at(to, startedMs)} (ran ${formatSeconds(to - from)})` : ''}` });
        }
      }
    }
  }
  // In the order things began (an activity under the workflow task that scheduled it).
  const ordered = lines.map((l, i) => ({ ...l, i })).sort((a, b) => a.t - b.t || a.i - b.i).map((l) => l.line);
  return [...ordered, `${tasks} workflow tasks: ${formatSeconds(taskWaitMs)} waiting for the worker, ${formatSeconds(taskWorkMs)} in it`];
}

/** PostgreSQL's log lines that mark a restored instance's recovery, by what they mean. */
const recoveryMarks: Array<[RegExp, string]> = [
  [/starting PostgreSQL/, 'postgres started'],
  [/consistent recovery state reached/, 'consistent'],
  [/recovery stopping (before|after)/, 'target reached'],
  [/pausing at the end of recovery/, 'paused'],
  [/selected new timeline ID/, 'promoted'],
  [/database system is ready to accept connections/, 'read-write'],
];

/** The instance's own times (its log's %m prefix) for each mark, from `startedMs`. */
export function recoveryLogBreakdown(logFile: string, startedMs: number): string {
  if (!existsSync(logFile)) return `(no log at ${logFile})`;
  const found: string[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    const time = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) (UTC|GMT|[+-]\d\d)/.exec(line);
    if (!time) continue;
    const mark = recoveryMarks.find(([re]) => re.test(line));
    if (!mark) continue;
    const t = Date.parse(`${time[1]!.replace(' ', 'T')}${/^[+-]/.test(time[2]!) ? `${time[2]}:00` : 'Z'}`);
    found.push(`${mark[1]} ${at(t, startedMs)}`);
  }
  return found.join(', ') || '(no recovery lines in its log)';
}
