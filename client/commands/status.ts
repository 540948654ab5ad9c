import type { Command } from 'commander';
import { CliError, ExitCode } from '../connection';
import { readRunbookStatus, type RunbookSnapshot } from '../runbooks';
import { changedLines, renderStatusText } from '../status-view';
import { withTemporal, type TemporalContext } from './with-temporal';

interface StatusOptions {
  watch?: boolean;
  json?: boolean;
  interval: string;
}

const CLEAR_SCREEN = '\x1b[H\x1b[2J';

function intervalMs(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0.2 || seconds > 3600) throw new CliError(`--interval: "${value}" must be a number of seconds between 0.2 and 3600`, ExitCode.Usage);
  return seconds * 1000;
}

function finished(snapshot: RunbookSnapshot): boolean {
  return snapshot.closed || snapshot.status.phase === 'finished';
}

/** Refreshes until the runbook finishes: a redrawn screen on a terminal, only the changes in a log. */
async function watch(ctx: TemporalContext, workflowId: string, options: StatusOptions): Promise<RunbookSnapshot> {
  const every = intervalMs(options.interval);
  const tty = Boolean(process.stdout.isTTY) && !options.json;
  const seen = new Map<string, string>();
  let lastProblem: string | undefined;
  for (;;) {
    let snapshot: RunbookSnapshot | undefined;
    try {
      snapshot = await readRunbookStatus(ctx.client, workflowId);
      lastProblem = undefined;
    } catch (error) {
      if ((error as Error).name === 'RunbookNotFound') throw error;
      // A worker restarting does not end the watch: say so once and keep trying.
      const problem = `status not available yet: ${(error as Error).message}`;
      if (problem !== lastProblem) console.error(`dr: ${problem}`);
      lastProblem = problem;
    }
    if (snapshot) {
      const changes = changedLines(seen, snapshot.status);
      if (tty) {
        process.stdout.write(`${CLEAR_SCREEN}${renderStatusText(snapshot.status)}\n\n${finished(snapshot) ? 'finished' : `refreshed ${new Date().toISOString().slice(11, 19)}Z, every ${every / 1000} s (Ctrl-C to stop watching; the runbook goes on)`}\n`);
      } else if (options.json) {
        if (changes.length) console.log(JSON.stringify(snapshot.status));
      } else {
        for (const line of changes) console.log(line);
      }
      if (finished(snapshot)) return snapshot;
    }
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status <workflowId>')
    .description('a runbook\'s status: phase, current step, timeline, open gates with who may still approve, RTO and RPO against the objectives, verdict')
    .option('--watch', 'refresh until the runbook finishes (exit 0 if it completed, 1 otherwise)')
    .option('--interval <seconds>', 'refresh interval for --watch', '2')
    .option('--json', 'print the status as JSON (with --watch: one line per change)')
    .action(async (workflowId: string, options: StatusOptions) => {
      await withTemporal(async (ctx) => {
        if (options.watch) {
          const last = await watch(ctx, workflowId, options);
          if (last.status.verdict !== 'completed') throw new CliError(`runbook ${workflowId} ended ${last.status.verdict ?? last.workflowStatus.toLowerCase()}`, ExitCode.Failed);
          return;
        }
        const snapshot = await readRunbookStatus(ctx.client, workflowId);
        console.log(options.json ? JSON.stringify(snapshot.status, null, 2) : renderStatusText(snapshot.status));
      });
    });
}
