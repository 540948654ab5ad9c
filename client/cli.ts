import { Command, CommanderError } from 'commander';
import { registerAuditCommands } from './commands/audit';
import { registerDecisionCommands } from './commands/decisions';
import { registerDrillCommands } from './commands/drills';
import { registerListCommand } from './commands/list';
import { registerReportCommand } from './commands/report';
import { registerStartCommands } from './commands/start';
import { registerStatusCommand } from './commands/status';
import { CliError, ExitCode } from './connection';

const exitCodes = `
Exit codes:
  ${ExitCode.Ok}  done (dr status --watch: the runbook completed)
  ${ExitCode.Failed}  failed (an error, an unknown workflow id; dr status --watch: the runbook ended other than completed)
  ${ExitCode.Usage}  usage or input error: a bad flag or an input the workflow's schema refuses (nothing was started)
  ${ExitCode.Refused}  refused by the runbook: not an approver, two-person rule, gate not open or decided, already ended
  ${ExitCode.Unavailable}  Temporal is unreachable

Environment:
  Temporal as the temporal CLI reads it: TEMPORAL_PROFILE and TEMPORAL_CONFIG_FILE (temporal.toml profiles),
  TEMPORAL_ADDRESS (127.0.0.1:7233), TEMPORAL_NAMESPACE (default), TEMPORAL_API_KEY, TEMPORAL_TLS_*
  DR_TASK_QUEUE (dr-runbooks)  DR_WEB_UI_URL (http://127.0.0.1:8233)  DR_OBJECT_STORE_DIR (published reports)
  DR_CONFIG (the worker config: its payload encryption keys)  DR_SSH_KEY (the key votes are signed with)`;

const program = new Command()
  .name('dr')
  .description('Start and drive dr-runbooks disaster-recovery runbooks on Temporal.')
  .addHelpText('after', exitCodes)
  .exitOverride()
  .showHelpAfterError();

registerStartCommands(program);
registerStatusCommand(program);
registerDecisionCommands(program);
registerReportCommand(program);
registerListCommand(program);
registerDrillCommands(program);
registerAuditCommands(program);

// Subcommands exit through the same path as the program, so a usage error is exit 2 everywhere.
for (const command of program.commands) {
  command.exitOverride();
  for (const sub of command.commands) sub.exitOverride();
}

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

void main(process.argv).then((code) => {
  process.exitCode = code;
});
