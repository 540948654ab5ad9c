import type { Client } from '@temporalio/client';
import { createSchedule, deleteSchedule, listSchedules, pauseSchedule, triggerSchedule, unpauseSchedule, type ScheduleView } from './schedules';
import { DrEnvironment } from '../contracts/search-attributes';

export interface BackupScheduleRequest {
  /** The database to back up, by its name in the worker config. */
  database: string;
  /** Standard cron, e.g. "0 * * * *" (every hour). */
  cron: string;
  timeZone?: string;
  /** pgBackRest's backup type (default incr; the first one of a stanza is full anyway). */
  type?: 'full' | 'diff' | 'incr';
  /** The environment a failed restore test's page names (default local). */
  environment?: string;
  taskQueue: string;
  createdBy: string;
  note?: string;
}

const prefix = 'dr-backup-';
export const backupScheduleId = (database: string) => `${prefix}${database}`;

/**
 * Creates the Temporal Schedule that runs `backupWithBaseline` for a database: a backup, its
 * verification and the baseline read from it, every time. Overlap SKIP; a failed run does not pause the
 * schedule (the next backup is worth more than a paused one; the failure is in the run's history, its
 * verdict in the object store, and it pages: every run is the backup's restore test).
 */
export async function scheduleBackups(client: Client, request: BackupScheduleRequest) {
  const scheduleId = backupScheduleId(request.database);
  const type = request.type ?? 'incr';
  const environment = request.environment ?? 'local';
  return createSchedule(client, {
    scheduleId,
    cron: request.cron,
    timeZone: request.timeZone,
    workflowType: 'backupWithBaseline',
    taskQueue: request.taskQueue,
    workflowId: `backup-${request.database}`,
    input: { database: request.database, type, environment, startedBy: `schedule:${scheduleId}` },
    summary: `Scheduled backup with baseline: ${request.database} (${type})`,
    pauseOnFailure: false,
    createdBy: request.createdBy,
    note: request.note,
    memo: { database: request.database, type },
    searchAttributes: [{ key: DrEnvironment, value: environment }],
  });
}

export type BackupScheduleView = Omit<ScheduleView, 'subject'> & { database?: string };

/** Every backup schedule, with its next runs and its recent ones. */
export async function listBackupSchedules(client: Client): Promise<BackupScheduleView[]> {
  return (await listSchedules(client, prefix, 'database')).map(({ subject, ...view }) => ({ ...view, database: subject }));
}

export const pauseBackupSchedule = (client: Client, database: string, note: string) => pauseSchedule(client, backupScheduleId(database), note);
export const unpauseBackupSchedule = (client: Client, database: string, note: string) => unpauseSchedule(client, backupScheduleId(database), note);
/** Takes a backup with its baseline now (skipped if one is still running). */
export const triggerBackup = (client: Client, database: string) => triggerSchedule(client, backupScheduleId(database));
export const deleteBackupSchedule = (client: Client, database: string) => deleteSchedule(client, backupScheduleId(database));
