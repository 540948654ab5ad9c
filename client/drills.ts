import type { Client } from '@temporalio/client';
import { scenarioNames, type ScenarioName } from '../workflows/scenarios';
import { createSchedule, deleteSchedule, listSchedules, pauseSchedule, scheduleViewOf, triggerSchedule, unpauseSchedule, type ScheduleView } from './schedules';

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

const prefix = 'dr-drill-';
export const drillScheduleId = (scenario: string) => `${prefix}${scenario}`;

/**
 * Creates the Temporal Schedule that runs `runDrill` for a scenario. Overlap is SKIP (a drill still
 * running means the next one waits for next time) and a failed drill pauses the schedule, so a
 * broken drill is looked at by a person instead of failing every month unnoticed.
 */
export async function scheduleDrill(client: Client, request: DrillScheduleRequest) {
  const scheduleId = drillScheduleId(request.scenario);
  return createSchedule(client, {
    scheduleId,
    cron: request.cron,
    timeZone: request.timeZone,
    workflowType: 'runDrill',
    taskQueue: request.taskQueue,
    workflowId: `drill-${request.scenario}`,
    input: { ...request.input, scenario: request.scenario, startedBy: `schedule:${scheduleId}` },
    summary: `Scheduled DR drill: ${request.scenario}`,
    pauseOnFailure: true,
    createdBy: request.createdBy,
    note: request.note,
    memo: { scenario: request.scenario },
  });
}

export type DrillScheduleView = Omit<ScheduleView, 'subject'> & { scenario?: string };

const drillView = ({ subject, ...view }: ScheduleView): DrillScheduleView => ({ ...view, scenario: subject });

/** Every drill schedule (by our id prefix), with its next runs and its recent ones. */
export async function listDrillSchedules(client: Client): Promise<DrillScheduleView[]> {
  return (await listSchedules(client, prefix, 'scenario')).map(drillView);
}

export async function describeDrillSchedule(client: Client, scenario: string): Promise<DrillScheduleView> {
  return drillView(scheduleViewOf(await client.schedule.getHandle(drillScheduleId(scenario)).describe(), 'scenario', prefix));
}

export const pauseDrillSchedule = (client: Client, scenario: string, note: string) => pauseSchedule(client, drillScheduleId(scenario), note);
export const unpauseDrillSchedule = (client: Client, scenario: string, note: string) => unpauseSchedule(client, drillScheduleId(scenario), note);
/** Runs the drill now (skipped if one is still running). */
export const triggerDrill = (client: Client, scenario: string) => triggerSchedule(client, drillScheduleId(scenario));
export const deleteDrillSchedule = (client: Client, scenario: string) => deleteSchedule(client, drillScheduleId(scenario));
