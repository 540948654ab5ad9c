import type { Command } from 'commander';
import { abortRunbook, voteOnGate } from '../runbooks';
import { withTemporal } from './with-temporal';

interface VoteOptions {
  gate: string;
  as: string;
  comment?: string;
}

/** `dr approve|reject` and `dr abort`: the Updates a person sends a running runbook. A refusal exits 3. */
export function registerDecisionCommands(program: Command): void {
  for (const kind of ['approve', 'reject'] as const) {
    program
      .command(`${kind} <workflowId>`)
      .description(`${kind} an approval gate (through the Update: the runbook's validator accepts or refuses at once)`)
      .requiredOption('--gate <gate>', 'the gate, e.g. cutover')
      .requiredOption('--as <name>', 'who you are, as listed among the gate\'s approvers')
      .option('--comment <text>', 'why (kept on the timeline, in the audit trail and the report)')
      .action(async (workflowId: string, options: VoteOptions) => {
        await withTemporal(async ({ client }) => {
          const outcome = await voteOnGate(client, workflowId, kind, { gate: options.gate, approver: options.as, ...(options.comment ? { comment: options.comment } : {}) });
          const tally = `${outcome.approvals.length} approval(s): ${outcome.approvals.join(', ') || 'none'}`;
          if (kind === 'reject') console.log(`gate "${outcome.gate}" rejected by ${options.as}: the runbook ends without cutting over`);
          else if (outcome.status === 'approved') console.log(`gate "${outcome.gate}" approved (${tally}): the runbook continues`);
          else console.log(`approval by ${options.as} recorded on gate "${outcome.gate}" (${tally}); ${outcome.approvalsStillNeeded} more needed`);
        });
      });
  }

  program
    .command('abort <workflowId>')
    .description('abort a runbook: it stops at the next safe point and undoes what it built (production is left as it was)')
    .requiredOption('--as <name>', 'who aborts it')
    .requiredOption('--reason <text>', 'why (kept on the timeline, in the audit trail and the report)')
    .action(async (workflowId: string, options: { as: string; reason: string }) => {
      await withTemporal(async ({ client }) => {
        await abortRunbook(client, workflowId, { by: options.as, reason: options.reason });
        console.log(`abort accepted: ${workflowId} stops at the next safe point and undoes what it built (follow it: dr status ${workflowId} --watch)`);
      });
    });
}
