import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { CliError, ExitCode } from '../connection';
import { deleteDrillSchedule, drillScenarios, listDrillSchedules, pauseDrillSchedule, scheduleDrill, triggerDrill, unpauseDrillSchedule, type DrillScenario } from '../drills';
import { cronArg, registerScheduleList, registerScheduleVerbs, withScheduleClient } from './schedule-commands';

function scenarioArg(value: string): DrillScenario {
  if (!(drillScenarios as readonly string[]).includes(value)) {
    throw new CliError(`--scenario: "${value}" is not a scenario (one of: ${drillScenarios.join(', ')})`, ExitCode.Usage);
  }
  return value as DrillScenario;
}

export function registerDrillCommands(program: Command): void {
  const drills = program.command('drills').description('drills on a schedule: runDrill of a scenario in drill mode, measured against the objectives');

  drills
    .command('schedule')
    .description('create the schedule of a scenario\'s drill (overlap: skip; a failed drill pauses the schedule)')
    .requiredOption('--scenario <scenario>', `one of: ${drillScenarios.join(', ')}`)
    .requiredOption('--cron <expression>', 'five-field cron, e.g. "0 3 1 * *" for 03:00 on the 1st of each month')
    .option('--time-zone <tz>', 'IANA time zone for the cron', 'UTC')
    .option('--input <file>', 'JSON file with the scenario\'s own input fields')
    .option('--as <name>', 'who creates it (recorded in the schedule)', process.env.USER ?? 'unknown')
    .action(async (opts: { scenario: string; cron: string; timeZone: string; input?: string; as: string }) => {
      const scenario = scenarioArg(opts.scenario);
      const cron = cronArg(opts.cron);
      const input = opts.input ? (JSON.parse(readFileSync(opts.input, 'utf8')) as Record<string, unknown>) : {};
      await withScheduleClient('drill', 'scenario drills', async ({ client, settings }) => {
        const handle = await scheduleDrill(client, { scenario, cron, timeZone: opts.timeZone, taskQueue: settings.taskQueue, input, createdBy: opts.as });
        console.log(`scheduled ${handle.scheduleId}: runDrill ${scenario} at "${cron}" (${opts.timeZone})`);
      });
    });

  registerScheduleList(drills, 'drill', 'scenario drills', listDrillSchedules);

  registerScheduleVerbs(drills, {
    what: 'drill',
    list: 'scenario drills',
    option: '--scenario <scenario>',
    optionDescription: `one of: ${drillScenarios.join(', ')}`,
    parse: scenarioArg,
    pause: pauseDrillSchedule,
    unpause: unpauseDrillSchedule,
    trigger: triggerDrill,
    remove: deleteDrillSchedule,
  });
}
