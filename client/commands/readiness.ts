import type { Command } from 'commander';
import { durationToMs } from '../../contracts/durations';
import { checkReadinessNow, defaultReadinessEvery, describeReadiness, readinessScheduleId, scheduleReadiness } from '../readiness';
import { CliError, ExitCode } from '../connection';
import { withTemporal } from './with-temporal';

export function registerReadinessCommands(program: Command): void {
  const readiness = program
    .command('readiness')
    .description('is the stack ready for a recovery? backups vs the RPO, WAL archive, repository space, reachability, secrets, approvers\' proofs, drill schedules (exit 1 naming each failing cause)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withTemporal(async ({ client, settings }) => {
        const result = await checkReadinessNow(client, settings.taskQueue);
        console.log(options.json ? JSON.stringify(result, null, 2) : describeReadiness(result).join('\n'));
        if (!result.ready) {
          const causes = result.lines.filter((l) => !l.passed).map((l) => `${l.check} (${l.subject})`);
          throw new CliError(`not ready for a recovery: ${causes.join(', ')}`, ExitCode.Failed);
        }
      });
    });
  readiness
    .command('schedule')
    .description(`check readiness on a Temporal Schedule (default every ${defaultReadinessEvery}); a failing check pages and sets dr_readiness_check_ok to 0`)
    .option('--every <duration>', 'how often, e.g. "15 minutes"', defaultReadinessEvery)
    .option('--as <name>', 'who creates it', process.env.USER ?? 'unknown')
    .action(async (options: { every: string; as: string }) => {
      let ms: number;
      try {
        ms = durationToMs(options.every);
      } catch (error) {
        throw new CliError(`--every: ${(error as Error).message}`, ExitCode.Usage);
      }
      if (ms < 60_000) throw new CliError(`--every: "${options.every}" is less than a minute; the check reads every database and the platform`, ExitCode.Usage);
      await withTemporal(async ({ client, settings }) => {
        await scheduleReadiness(client, { taskQueue: settings.taskQueue, every: options.every, createdBy: options.as });
        console.log(`scheduled ${readinessScheduleId}: checkReadiness every ${options.every}`);
      });
    });
  readiness
    .command('unschedule')
    .description('delete the scheduled readiness check')
    .action(async () => {
      await withTemporal(async ({ client }) => {
        await client.schedule.getHandle(readinessScheduleId).delete();
        console.log(`deleted ${readinessScheduleId}`);
      });
    });
}
