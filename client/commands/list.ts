import type { Command } from 'commander';
import { listRunbooks } from '../runbooks';
import { withTemporal } from './with-temporal';

export function registerListCommand(program: Command): void {
  program
    .command('list')
    .description('runbooks by their search attributes (DrScenario, DrIncidentId, DrEnvironment, DrStatus), newest first: open ones unless --all')
    .option('--all', 'include finished runbooks')
    .option('--scenario <scenario>', 'only this scenario, e.g. server-failure')
    .option('--json', 'print JSON')
    .action(async (options: { all?: boolean; scenario?: string; json?: boolean }) => {
      await withTemporal(async ({ client }) => {
        const runbooks = await listRunbooks(client, options);
        if (options.json) return console.log(JSON.stringify(runbooks, null, 2));
        if (!runbooks.length) return console.log(options.all ? 'no runbooks' : 'no open runbooks (dr list --all shows finished ones)');
        for (const r of runbooks) {
          console.log(`${r.startTime.slice(0, 19)}Z  ${(r.drStatus ?? r.workflowStatus.toLowerCase()).padEnd(20)}  ${(r.scenario ?? '?').padEnd(20)}  ${(r.incidentId ?? '-').padEnd(12)}  ${(r.environment ?? '-').padEnd(8)}  ${r.workflowId}`);
        }
      });
    });
}
