import type { Command } from 'commander';
import type { VoteProof } from '../../contracts/runbook-status';
import { CliError, ExitCode } from '../connection';
import { abortRunbook, describeRunbook, voteOnGate } from '../runbooks';
import { defaultSigningKey, signVote, type VoteToSign } from '../vote-signing';
import { withTemporal, type TemporalContext } from './with-temporal';

interface ProofOptions {
  /** The private key to sign with, or its .pub when ssh-agent holds it. */
  key?: string;
  /** A one-time code instead of a signature. */
  code?: string;
  /** false with --no-sign: send the vote by name only (environments whose config says authentication: none). */
  sign?: boolean;
}

interface VoteOptions extends ProofOptions {
  gate: string;
  as: string;
  comment?: string;
}

const proofHelp = {
  key: 'the SSH key to sign with (a private key file, or its .pub when ssh-agent holds the key); default DR_SSH_KEY, else ~/.ssh/id_ed25519, id_ecdsa or id_rsa',
  code: 'a one-time code from your authenticator app, instead of a signature',
  noSign: 'send without a proof (only where the environment\'s config says authentication: none)',
};

function addProofOptions(command: Command): Command {
  return command.option('--key <file>', proofHelp.key).option('--code <digits>', proofHelp.code).option('--no-sign', proofHelp.noSign);
}

/**
 * The proof a vote carries: a one-time code when given, else a signature over the vote statement of this
 * run (its namespace, workflow id and run id, read from Temporal) with the person's SSH key.
 */
async function proofFor(ctx: TemporalContext, workflowId: string, vote: Omit<VoteToSign, 'namespace' | 'workflowId' | 'runId'>, options: ProofOptions): Promise<VoteProof> {
  if (options.code !== undefined) return { code: options.code.replace(/\s+/g, '') };
  if (options.sign === false) return {};
  const key = options.key ?? defaultSigningKey();
  if (!key) return {};
  const { runId } = await describeRunbook(ctx.client, workflowId);
  try {
    return await signVote({ namespace: ctx.settings.namespace, workflowId, runId, ...vote }, key);
  } catch (error) {
    throw new CliError(`${(error as Error).message} (choose the key with --key, or vote with --code)`, ExitCode.Usage);
  }
}

/** `dr approve|reject` and `dr abort`: the Updates a person sends a running runbook, signed. A refusal exits 3. */
export function registerDecisionCommands(program: Command): void {
  for (const kind of ['approve', 'reject'] as const) {
    addProofOptions(
      program
        .command(`${kind} <workflowId>`)
        .description(`${kind} an approval gate, signed with your SSH key (or a one-time code); the runbook's handler checks the proof and accepts or refuses at once`)
        .requiredOption('--gate <gate>', 'the gate, e.g. cutover')
        .requiredOption('--as <name>', 'who you are, as listed among the gate\'s approvers (and in the allowed signers)')
        .option('--comment <text>', 'why (kept on the timeline, in the audit trail and the report; part of what you sign)'),
    ).action(async (workflowId: string, options: VoteOptions) => {
      await withTemporal(async (ctx) => {
        const proof = await proofFor(ctx, workflowId, { gate: options.gate, decision: kind, by: options.as, comment: options.comment ?? '' }, options);
        const outcome = await voteOnGate(ctx.client, workflowId, kind, { gate: options.gate, approver: options.as, ...(options.comment ? { comment: options.comment } : {}), ...proof });
        const tally = `${outcome.approvals.length} approval(s): ${outcome.approvals.join(', ') || 'none'}`;
        if (kind === 'reject') console.log(`gate "${outcome.gate}" rejected by ${options.as}: the runbook ends without cutting over`);
        else if (outcome.status === 'approved') console.log(`gate "${outcome.gate}" approved (${tally}): the runbook continues`);
        else console.log(`approval by ${options.as} recorded on gate "${outcome.gate}" (${tally}); ${outcome.approvalsStillNeeded} more needed`);
      });
    });
  }

  addProofOptions(
    program
      .command('abort <workflowId>')
      .description('abort a runbook (incident commanders only), signed: it stops at the next safe point and undoes what it built (production is left as it was)')
      .requiredOption('--as <name>', 'who aborts it (an incident commander of the config)')
      .requiredOption('--reason <text>', 'why (kept on the timeline, in the audit trail and the report; part of what you sign)'),
  ).action(async (workflowId: string, options: ProofOptions & { as: string; reason: string }) => {
    await withTemporal(async (ctx) => {
      const proof = await proofFor(ctx, workflowId, { gate: '', decision: 'abort', by: options.as, comment: options.reason }, options);
      await abortRunbook(ctx.client, workflowId, { by: options.as, reason: options.reason, ...proof });
      console.log(`abort accepted: ${workflowId} stops at the next safe point and undoes what it built (follow it: dr status ${workflowId} --watch)`);
    });
  });
}
