import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { randomUUID } from 'node:crypto';
import { assessDatabaseHealthInput, describeIssues } from '../workflows/inputs';
import { registerDrillCommands } from './commands/drills';
import { CliError, connectClient, ExitCode } from './connection';

const program = new Command()
  .name('dr')
  .description('Start and drive dr-runbooks disaster-recovery runbooks on Temporal.\nConnects to TEMPORAL_ADDRESS (default 127.0.0.1:7233), namespace TEMPORAL_NAMESPACE, task queue DR_TASK_QUEUE.')
  .exitOverride()
  .showHelpAfterError();

const start = program.command('start').description('start a runbook');

start
  .command('assess')
  .description('assess a database: connectivity and the critical integrity totals (the first step of every runbook)')
  .option('--database <name>', 'database name from the worker config', 'production')
  .option('--incident <id>', 'incident id to file the run under')
  .option('--input <file>', 'read the whole input from a JSON file instead of flags')
  .option('--wait', 'wait for the result and print it')
  .action(async (opts: { database: string; incident?: string; input?: string; wait?: boolean }) => {
    const raw = opts.input ? JSON.parse(readFileSync(opts.input, 'utf8')) : { database: opts.database, incidentId: opts.incident };
    const parsed = assessDatabaseHealthInput.safeParse(raw);
    if (!parsed.success) throw new CliError(`invalid input: ${describeIssues(parsed.error)}`, ExitCode.Usage);
    const { client, connection, settings } = await connectClient();
    try {
      const handle = await client.workflow.start('assessDatabaseHealth', { taskQueue: settings.taskQueue, workflowId: `assess-${randomUUID()}`, args: [parsed.data] });
      console.log(`started ${handle.workflowId}`);
      if (opts.wait) console.log(JSON.stringify(await handle.result(), null, 2));
    } finally {
      await connection.close();
    }
  });

registerDrillCommands(program);

async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    if (error instanceof CliError) {
      console.error(`dr: ${error.message}`);
      return error.exitCode;
    }
    console.error(`dr: ${(error as Error).message}`);
    return ExitCode.Failed;
  }
}

void main(process.argv).then((code) => { process.exitCode = code; });
