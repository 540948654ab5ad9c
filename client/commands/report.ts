import type { Command } from 'commander';
import { renderRunbookReport, reportExtrasFromOutput, reportKeys } from '../../activities/reports';
import type { RunbookResult, Verdict } from '../../contracts/runbook-status';
import { CliError, ExitCode } from '../connection';
import { reportStoreFromDirectory } from '../report-store';
import { readRunbookStatus } from '../runbooks';
import { withTemporal } from './with-temporal';

interface ReportOptions {
  format: string;
  storeDir?: string;
}

export function registerReportCommand(program: Command): void {
  program
    .command('report <workflowId>')
    .description('print a runbook\'s report: the published one from the object store, else rendered from the workflow\'s result (or its status while it runs)')
    .option('--format <format>', 'markdown or json', 'markdown')
    .option('--store-dir <dir>', 'the local object store directory (default: DR_OBJECT_STORE_DIR)')
    .action(async (workflowId: string, options: ReportOptions) => {
      if (options.format !== 'markdown' && options.format !== 'json') throw new CliError(`--format: "${options.format}" must be markdown or json`, ExitCode.Usage);
      const store = reportStoreFromDirectory(options.storeDir ?? process.env.DR_OBJECT_STORE_DIR);
      if (store) {
        const keys = reportKeys(workflowId);
        const published = await store.get(options.format === 'json' ? keys.json : keys.markdown);
        if (published) {
          process.stdout.write(published.toString('utf8').replace(/\n?$/, '\n'));
          return;
        }
      }
      await withTemporal(async ({ client }) => {
        const snapshot = await readRunbookStatus(client, workflowId);
        const result: RunbookResult = snapshot.result ?? { ...snapshot.status, verdict: snapshot.status.verdict ?? ('in progress' as Verdict) };
        const { markdown, json } = renderRunbookReport(result, reportExtrasFromOutput(result.output));
        if (!snapshot.result) console.error(`dr: no published report and no result yet: rendered from the runbook's current status (${snapshot.status.phase})`);
        process.stdout.write(options.format === 'json' ? `${JSON.stringify(json, null, 2)}\n` : markdown);
      });
    });
}
