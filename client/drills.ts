import { scenarioNames, type ScenarioName } from '../workflows/scenarios';
import { ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleSummary } from '@temporalio/client';

/** The scenarios a drill can exercise: the same table runDrill reads. */
export const drillScenarios = scenarioNames;
export type DrillScenario = ScenarioName;

export interface DrillScheduleRequest {
  scenario: DrillScenario;
  /** Standard cron, e.g. "0 3 1 * *" (03:00 on the 1st of each month). */
  cron: string;
  /** IANA time zone the cron is read in; default UTC. */
  timeZone?: string;
  taskQueue: string;
  /** The scenario's own input fields; mode is always drill. */
  input?: Record<string, unknown>;
  createdBy: string;
  note?: string;
}

export const drillScheduleId = (scenario: string) => `dr-drill-${scenario}`;

/**
 * Creates the Temporal Schedule that runs `runDrill` for a scenario. Overlap is SKIP (a drill still
 * running means the next one waits for next time) and a failed drill pauses the schedule, so a
 * broken drill is looked at by a person instead of failing every month unnoticed.
 */
export async function scheduleDrill(client: Client, request: DrillScheduleRequest) {
  const scheduleId = drillScheduleId(request.scenario);
  return client.schedule.create({
    scheduleId,
    spec: { cronExpressions: [request.cron], timezone: request.timeZone ?? 'UTC' },
    action: {
      type: 'startWorkflow',
      workflowType: 'runDrill',
      taskQueue: request.taskQueue,
      workflowId: `drill-${request.scenario}`,
      args: [{ ...request.input, scenario: request.scenario, startedBy: `schedule:${scheduleId}` }],
      staticSummary: `Scheduled DR drill: ${request.scenario}`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, pauseOnFailure: true, catchupWindow: '1 hour' },
    state: { note: request.note ?? `created by ${request.createdBy}` },
    // The server keeps the cron only as compiled calendars; the memo keeps what the person typed.
    memo: { scenario: request.scenario, cron: request.cron, timeZone: request.timeZone ?? 'UTC', createdBy: request.createdBy },
  });
}

export interface DrillScheduleView {
  scheduleId: string;
  scenario?: string;
  cron?: string;
  timeZone?: string;
  paused: boolean;
  note?: string;
  nextRuns: string[];
  recentRuns: Array<{ scheduledAt: string; workflowId: string }>;
}

function viewOf(s: ScheduleSummary | ScheduleDescription): DrillScheduleView {
  const memo = (s.memo ?? {}) as { scenario?: string; cron?: string; timeZone?: string };
  return {
    scheduleId: s.scheduleId,
    scenario: memo.scenario ?? s.scheduleId.replace(/^dr-drill-/, ''),
    cron: memo.cron,
    timeZone: memo.timeZone,
    paused: s.state.paused,
    note: s.state.note,
    nextRuns: s.info.nextActionTimes.slice(0, 3).map((d) => d.toISOString()),
    recentRuns: s.info.recentActions.map((a) => ({ scheduledAt: a.scheduledAt.toISOString(), workflowId: a.action.workflow.workflowId })),
  };
}

/** Every drill schedule (by our id prefix), with its next runs and its recent ones. */
export async function listDrillSchedules(client: Client): Promise<DrillScheduleView[]> {
  const views: DrillScheduleView[] = [];
  for await (const summary of client.schedule.list()) {
    if (summary.scheduleId.startsWith('dr-drill-')) views.push(viewOf(summary));
  }
  return views.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

export async function describeDrillSchedule(client: Client, scenario: string): Promise<DrillScheduleView> {
  return viewOf(await client.schedule.getHandle(drillScheduleId(scenario)).describe());
}

export async function pauseDrillSchedule(client: Client, scenario: string, note: string) {
  await client.schedule.getHandle(drillScheduleId(scenario)).pause(note);
}

export async function unpauseDrillSchedule(client: Client, scenario: string, note: string) {
  await client.schedule.getHandle(drillScheduleId(scenario)).unpause(note);
}

/** Runs the drill now. Overlap SKIP, said explicitly: trigger() would otherwise allow a second drill beside a running one. */
export async function triggerDrill(client: Client, scenario: string) {
  await client.schedule.getHandle(drillScheduleId(scenario)).trigger(ScheduleOverlapPolicy.SKIP);
}

export async function deleteDrillSchedule(client: Client, scenario: string) {
  await client.schedule.getHandle(drillScheduleId(scenario)).delete();
}
