import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { CliError, connectClient, ExitCode } from '../connection';
import type { ScheduleView } from '../schedules';

// What `dr drills` and `dr backups` share: a client for schedule commands (their errors as exit codes),
// the cron check, and the verbs every schedule has (pause, unpause, trigger, delete).

/** Five-field cron, checked here so a typo is caught before the server compiles it into nothing useful. */
export function cronArg(value: string): string {
  if (value.trim().split(/\s+/).length !== 5) throw new CliError(`--cron: "${value}" must have five fields: minute hour day-of-month month day-of-week, e.g. "0 3 1 * *"`, ExitCode.Usage);
  return value.trim();
}

export async function withScheduleClient<T>(what: string, list: string, fn: (ctx: Awaited<ReturnType<typeof connectClient>>) => Promise<T>): Promise<T> {
  const ctx = await connectClient();
  try {
    return await fn(ctx);
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'ScheduleNotFoundError') throw new CliError(`no such ${what} schedule: ${(error as Error).message}`, ExitCode.Failed);
    if (name === 'ScheduleAlreadyRunning') throw new CliError(`a ${what} schedule for that ${list.split(' ')[0]} already exists (see \`dr ${list.split(' ')[1]} list\`)`, ExitCode.Refused);
    throw error;
  } finally {
    await ctx.connection.close();
  }
}

export interface ScheduleVerbs {
  /** "drill" or "backup": for messages. */
  what: string;
  /** The option that names the schedule, e.g. "--scenario <scenario>", and what it says. */
  option: string;
  optionDescription: string;
  /** Checks the option's value (usage errors exit 2) and returns it. */
  parse(value: string): string;
  pause(client: Client, subject: string, note: string): Promise<void>;
  unpause(client: Client, subject: string, note: string): Promise<void>;
  trigger(client: Client, subject: string): Promise<void>;
  remove(client: Client, subject: string): Promise<void>;
  /** "scenario drills": the noun and the command group, for the already-exists message. */
  list: string;
}

/** `list [--json]`: the schedules with their next and recent runs. */
export function registerScheduleList(group: Command, what: string, list: string, fetch: (client: Client) => Promise<Array<Omit<ScheduleView, 'subject'>>>): void {
  group
    .command('list')
    .description(`list ${what} schedules with their next and recent runs`)
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withScheduleClient(what, list, async ({ client }) => {
        const views = await fetch(client);
        if (opts.json) return console.log(JSON.stringify(views, null, 2));
        if (!views.length) return console.log(`no ${what} schedules`);
        for (const v of views) {
          console.log(`${v.scheduleId}  ${v.paused ? 'PAUSED ' : 'active '} cron "${v.cron ?? '?'}" ${v.timeZone ?? ''}  next ${v.nextRuns[0] ?? '-'}  recent ${v.recentRuns.length}${v.note ? `  note: ${v.note}` : ''}`);
        }
      });
    });
}

export function registerScheduleVerbs(group: Command, verbs: ScheduleVerbs): void {
  const key = verbs.option.replace(/^--([a-z-]+).*$/, '$1').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  for (const [verb, description, run] of [
    ['pause', `pause a ${verbs.what} schedule`, (c: Client, s: string, who: string) => verbs.pause(c, s, `paused by ${who}`)],
    ['unpause', `unpause a ${verbs.what} schedule`, (c: Client, s: string, who: string) => verbs.unpause(c, s, `unpaused by ${who}`)],
    ['trigger', `run it now (skipped if one is still running)`, (c: Client, s: string) => verbs.trigger(c, s)],
    ['delete', `delete a ${verbs.what} schedule (runs already started go on)`, (c: Client, s: string) => verbs.remove(c, s)],
  ] as const) {
    group
      .command(verb)
      .description(description)
      .requiredOption(verbs.option, verbs.optionDescription)
      .option('--as <name>', 'who does it', process.env.USER ?? 'unknown')
      .action(async (opts: Record<string, string>) => {
        const subject = verbs.parse(opts[key]!);
        await withScheduleClient(verbs.what, verbs.list, async ({ client }) => {
          await run(client, subject, opts.as!);
          console.log(`${verb}: ${subject}`);
        });
      });
  }
}
