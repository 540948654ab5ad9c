import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { computeKpis } from '../../contracts/kpis';
import { CliError, ExitCode } from '../connection';
import { renderKpisHtml } from '../kpis-html';
import { collectKpiInput, parsePeriodBound, type KpiPeriod } from '../kpis';
import { renderKpisText } from '../kpis-text';
import { reportStoreFromDirectory } from '../report-store';
import { withTemporal } from './with-temporal';

interface KpiOptions {
  since: string;
  until?: string;
  environment?: string;
  json?: boolean;
  html?: string;
  storeDir?: string;
}

function periodOf(options: KpiOptions, now = new Date()): KpiPeriod {
  let since: Date;
  let until: Date;
  try {
    since = parsePeriodBound('--since', options.since, now);
    until = options.until ? parsePeriodBound('--until', options.until, now) : now;
  } catch (error) {
    throw new CliError((error as Error).message, ExitCode.Usage);
  }
  if (since.getTime() >= until.getTime()) throw new CliError(`--since: ${since.toISOString()} must be before --until (${until.toISOString()})`, ExitCode.Usage);
  const environment = options.environment?.trim();
  if (options.environment !== undefined && !environment) throw new CliError('--environment: must name an environment', ExitCode.Usage);
  return { since, until, ...(environment ? { environment } : {}) };
}

export function registerKpisCommand(program: Command): void {
  program
    .command('kpis')
    .description('the DR KPIs over a period: MTTR, drill RTO/RPO against the objectives, drill success, recovery-test and backup success, each with the runs it is computed from')
    .option('--since <time>', 'start: a duration back from now ("30d", "12h") or an ISO 8601 time', '30d')
    .option('--until <time>', 'end: a duration back from now or an ISO 8601 time (default: now)')
    .option('--environment <name>', 'only runbooks of this environment (backup runs are counted whatever the environment)')
    .option('--json', 'print the KPIs as JSON')
    .option('--html <file>', 'also write a self-contained HTML page with a chart of RTO and RPO per drill')
    .option('--store-dir <dir>', 'the local object store directory the reports are in (default: DR_OBJECT_STORE_DIR)')
    .action(async (options: KpiOptions) => {
      const period = periodOf(options);
      const store = reportStoreFromDirectory(options.storeDir ?? process.env.DR_OBJECT_STORE_DIR);
      await withTemporal(async ({ client }) => {
        const { skipped, ...input } = await collectKpiInput(client, store, period);
        const kpis = computeKpis(input);
        if (options.html) writeFileSync(options.html, renderKpisHtml(kpis));
        process.stdout.write(options.json ? `${JSON.stringify(kpis, null, 2)}\n` : renderKpisText(kpis));
        if (skipped.length) console.error(`dr: ${skipped.length} closed runbook${skipped.length === 1 ? '' : 's'} with neither a report nor a result left out: ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''}`);
        if (options.html) console.error(`dr: wrote ${options.html}`);
      });
    });
}
