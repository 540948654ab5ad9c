import type { Command } from 'commander';
import { configName } from '../../contracts/inputs';
import { deleteBackupSchedule, listBackupSchedules, pauseBackupSchedule, scheduleBackups, triggerBackup, unpauseBackupSchedule } from '../backups';
import { CliError, ExitCode } from '../connection';
import { cronArg, registerScheduleList, registerScheduleVerbs, withScheduleClient } from './schedule-commands';

function nameArg(flag: string, value: string): string {
  const parsed = configName.safeParse(value);
  if (!parsed.success) throw new CliError(`${flag}: "${value}" ${parsed.error.issues[0]!.message}`, ExitCode.Usage);
  return parsed.data;
}
const databaseArg = (value: string) => nameArg('--database', value);

function typeArg(value: string): 'full' | 'diff' | 'incr' {
  if (value !== 'full' && value !== 'diff' && value !== 'incr') throw new CliError(`--type: "${value}" must be full, diff or incr`, ExitCode.Usage);
  return value;
}

export function registerBackupCommands(program: Command): void {
  const backups = program.command('backups').description('backups on a schedule: backupWithBaseline takes a backup, verifies it and stores the baseline read from it');

  backups
    .command('schedule')
    .description('create the backup schedule of a database (overlap: skip; a failed backup does not pause it)')
    .requiredOption('--database <name>', 'database name from the worker config, e.g. production')
    .requiredOption('--cron <expression>', 'five-field cron, e.g. "0 * * * *" for every hour')
    .option('--type <type>', 'full, diff or incr', 'incr')
    .option('--time-zone <tz>', 'IANA time zone for the cron', 'UTC')
    .option('--environment <name>', 'the environment named in the page when a backup fails its restore test', 'local')
    .option('--as <name>', 'who creates it (recorded in the schedule)', process.env.USER ?? 'unknown')
    .action(async (opts: { database: string; cron: string; type: string; timeZone: string; environment: string; as: string }) => {
      const database = databaseArg(opts.database);
      const environment = nameArg('--environment', opts.environment);
      const cron = cronArg(opts.cron);
      const type = typeArg(opts.type);
      await withScheduleClient('backup', 'database backups', async ({ client, settings }) => {
        const handle = await scheduleBackups(client, { database, cron, type, environment, timeZone: opts.timeZone, taskQueue: settings.taskQueue, createdBy: opts.as });
        console.log(`scheduled ${handle.scheduleId}: backupWithBaseline ${database} (${type}) at "${cron}" (${opts.timeZone})`);
      });
    });

  registerScheduleList(backups, 'backup', 'database backups', listBackupSchedules);

  registerScheduleVerbs(backups, {
    what: 'backup',
    list: 'database backups',
    option: '--database <name>',
    optionDescription: 'database name from the worker config',
    parse: databaseArg,
    pause: pauseBackupSchedule,
    unpause: unpauseBackupSchedule,
    trigger: triggerBackup,
    remove: deleteBackupSchedule,
  });
}
