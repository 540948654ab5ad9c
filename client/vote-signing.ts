import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signWithSshKeygen } from '../lib/ssh-signature';
import { buildVoteStatement, voteSignatureNamespace, type VoteStatement } from '../lib/vote-statement';
import type { VoteProof } from '../contracts/runbook-status';

/** The statement a person signs, without its time (taken when signing). */
export type VoteToSign = Omit<VoteStatement, 'time'>;

/**
 * The key `dr` signs with: --key, else DR_SSH_KEY, else the user's ~/.ssh/id_ed25519 (then id_ecdsa,
 * id_rsa) when present. A `.pub` file means the private key is in ssh-agent (SSH_AUTH_SOCK).
 */
export function defaultSigningKey(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.DR_SSH_KEY) return env.DR_SSH_KEY;
  const home = env.HOME ?? os.homedir();
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((name) => path.join(home, '.ssh', name)).find((file) => existsSync(file));
}

/**
 * Signs the vote statement (lib/vote-statement.ts: namespace, workflow id, run id, gate, decision, by,
 * comment, time) with the real `ssh-keygen -Y sign`, so keys with a passphrase (it asks on the terminal)
 * and keys held by ssh-agent work as they do for git. Returns what the vote carries.
 */
export async function signVote(vote: VoteToSign, keyFile: string, options: { now?: Date; env?: NodeJS.ProcessEnv } = {}): Promise<Required<Pick<VoteProof, 'signature' | 'time'>>> {
  const time = (options.now ?? new Date()).toISOString();
  const statement = buildVoteStatement({ ...vote, time });
  const signature = await signWithSshKeygen({ keyFile, namespace: voteSignatureNamespace, message: statement, env: options.env });
  return { signature, time };
}
