import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { CliError, connectClient, ExitCode } from '../connection';
import { deleteDrillSchedule, drillScenarios, listDrillSchedules, pauseDrillSchedule, scheduleDrill, triggerDrill, unpauseDrillSchedule, type DrillScenario } from '../drills';

function scenarioArg(value: string): DrillScenario {
  if (!(drillScenarios as readonly string[]).includes(value)) {
    throw new CliError(`--scenario: "${value}" is not a scenario (one of: ${drillScenarios.join(', ')})`, ExitCode.Usage);
  }
  return value as DrillScenario;
}

/** Five-field cron, checked here so a typo is caught before the server compiles it into nothing useful. */
function cronArg(value: string): string {
  if (value.trim().split(/\s+/).length !== 5) throw new CliError(`--cron: "${value}" must have five fields: minute hour day-of-month month day-of-week, e.g. "0 3 1 * *"`, ExitCode.Usage);
  return value.trim();
}

async function withClient<T>(fn: (ctx: Awaited<ReturnType<typeof connectClient>>) => Promise<T>): Promise<T> {
  const ctx = await connectClient();
  try {
    return await fn(ctx);
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'ScheduleNotFoundError') throw new CliError(`no such drill schedule: ${(error as Error).message}`, ExitCode.Failed);
    if (name === 'ScheduleAlreadyRunning') throw new CliError(`a drill schedule for that scenario already exists (see \`dr drills list\`)`, ExitCode.Refused);
    throw error;
  } finally {
    await ctx.connection.close();
  }
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
      await withClient(async ({ client, settings }) => {
        const handle = await scheduleDrill(client, { scenario, cron, timeZone: opts.timeZone, taskQueue: settings.taskQueue, input, createdBy: opts.as });
        console.log(`scheduled ${handle.scheduleId}: runDrill ${scenario} at "${cron}" (${opts.timeZone})`);
      });
    });

  drills
    .command('list')
    .description('list drill schedules with their next and recent runs')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withClient(async ({ client }) => {
        const views = await listDrillSchedules(client);
        if (opts.json) return console.log(JSON.stringify(views, null, 2));
        if (!views.length) return console.log('no drill schedules');
        for (const v of views) {
          console.log(`${v.scheduleId}  ${v.paused ? 'PAUSED ' : 'active '} cron "${v.cron ?? '?'}" ${v.timeZone ?? ''}  next ${v.nextRuns[0] ?? '-'}  recent ${v.recentRuns.length}${v.note ? `  note: ${v.note}` : ''}`);
        }
      });
    });

  for (const [verb, description, run] of [
    ['pause', 'pause a drill schedule', (c: Parameters<typeof pauseDrillSchedule>[0], s: string, who: string) => pauseDrillSchedule(c, s, `paused by ${who}`)],
    ['unpause', 'unpause a drill schedule', (c: Parameters<typeof pauseDrillSchedule>[0], s: string, who: string) => unpauseDrillSchedule(c, s, `unpaused by ${who}`)],
    ['trigger', 'run a scenario\'s drill now (skipped if one is still running)', (c: Parameters<typeof pauseDrillSchedule>[0], s: string) => triggerDrill(c, s)],
    ['delete', 'delete a drill schedule (runs already started go on)', (c: Parameters<typeof pauseDrillSchedule>[0], s: string) => deleteDrillSchedule(c, s)],
  ] as const) {
    drills
      .command(verb)
      .description(description)
      .requiredOption('--scenario <scenario>', `one of: ${drillScenarios.join(', ')}`)
      .option('--as <name>', 'who does it', process.env.USER ?? 'unknown')
      .action(async (opts: { scenario: string; as: string }) => {
        const scenario = scenarioArg(opts.scenario);
        await withClient(async ({ client }) => {
          await run(client, scenario, opts.as);
          console.log(`${verb}: ${scenario}`);
        });
      });
  }
}
