import { readFile } from 'node:fs/promises';
import { AllowedSignersError, parseAllowedSigners, verifySshSignature } from '../lib/ssh-signature';
import { verifyTotp, TotpError } from '../lib/totp';
import { buildVoteStatement, voteSignatureNamespace, VoteStatementError } from '../lib/vote-statement';
import type { SshSignatureRefusal } from '../lib/ssh-signature';
import type { TotpRefusal } from '../lib/totp';
import type { VoteProofRequest, VoteProofVerdict } from '../contracts/vote-proof';
import { activityIdentity } from './activity-context';
import type { SecretStore } from './ports/secret-store';
import type { UsedCodes } from './vote-codes';

export interface VoteProofOptions {
  /** The allowed-signers file (read at every check, so an edited file counts at once); none: SSH votes are refused. */
  allowedSignersFile?: string;
  /** Where each approver's TOTP secret is kept. */
  secrets: SecretStore;
  /** The secret name of an approver's TOTP secret (config approvals.totpSecrets, else totp-<approver>). */
  totpSecretName(approver: string): string;
  /** Used one-time codes, across runbooks; none: codes are refused (nowhere to remember them). */
  usedCodes?: UsedCodes;
  /** A statement time further than this from now is refused. */
  maxClockSkewMs: number;
  now?: () => Date;
}

/** Every reason a proof is refused for: the signature's, the code's, and the check's own. */
export type VoteProofRefusal = SshSignatureRefusal | TotpRefusal | 'missing-proof' | 'malformed-statement' | 'stale-statement' | 'future-statement' | 'no-allowed-signers' | 'no-totp-secret' | 'codes-unavailable';

const refuse = (reason: VoteProofRefusal, message: string): VoteProofVerdict => ({ ok: false, reason, message });

/** The secret name people get without one in the config: totp-<approver>, in the characters a secret name allows. */
export function defaultTotpSecretName(approver: string): string {
  return `totp-${approver.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'approver'}`.slice(0, 128);
}

/**
 * The worker's check of a vote's proof (issue 11): an SSH signature by a key the allowed signers list for
 * the approver, over the statement this vote makes for this run (namespace, workflow id, run id, gate,
 * decision, by, comment, time), made within the clock skew; or a one-time code from the approver's TOTP
 * secret, used once. Every "no" is an answer with its reason, never a failure: the workflow records it.
 */
export function createVoteProofActivities(options: VoteProofOptions) {
  const now = options.now ?? (() => new Date());

  async function checkSignature(request: VoteProofRequest): Promise<VoteProofVerdict> {
    if (!options.allowedSignersFile) return refuse('no-allowed-signers', 'this worker has no allowed-signers file (config approvals.allowedSigners): SSH-signed votes cannot be checked');
    if (typeof request.time !== 'string') return refuse('malformed-statement', 'time: a signed vote carries the time of its statement');
    let statement: string;
    try {
      statement = buildVoteStatement({ ...request.statement, time: request.time });
    } catch (error) {
      if (error instanceof VoteStatementError) return refuse('malformed-statement', error.message);
      throw error;
    }
    const at = now();
    const skew = Date.parse(request.time) - at.getTime();
    if (skew < -options.maxClockSkewMs) return refuse('stale-statement', `the signed statement is from ${request.time}, more than ${options.maxClockSkewMs / 60_000} min ago: sign the vote again now (an old signature is not accepted)`);
    if (skew > options.maxClockSkewMs) return refuse('future-statement', `the signed statement is dated ${request.time}, more than ${options.maxClockSkewMs / 60_000} min ahead of the worker's clock: check the clock of the machine that signed`);
    let signersText: string;
    try {
      signersText = await readFile(options.allowedSignersFile, 'utf8');
    } catch (error) {
      return refuse('no-allowed-signers', `the allowed-signers file ${options.allowedSignersFile} cannot be read: ${(error as Error).message}`);
    }
    let signers;
    try {
      signers = parseAllowedSigners(signersText, options.allowedSignersFile);
    } catch (error) {
      if (error instanceof AllowedSignersError) return refuse('no-allowed-signers', error.message.split('\n').join(' '));
      throw error;
    }
    const verified = verifySshSignature({ allowedSigners: signers, principal: request.principal, namespace: voteSignatureNamespace, message: statement, signature: request.signature, at });
    if (!verified.ok) return refuse(verified.reason, verified.message);
    return {
      ok: true,
      method: 'ssh',
      principal: verified.principal,
      fingerprint: verified.fingerprint,
      keyType: verified.keyType,
      statement,
      signature: request.signature as string,
      allowedSignersLine: verified.allowedSignersLine,
      signatureNamespace: voteSignatureNamespace,
    };
  }

  async function checkCode(request: VoteProofRequest): Promise<VoteProofVerdict> {
    if (!options.usedCodes) return refuse('codes-unavailable', 'one-time codes need the control database (config audit.database) to remember which codes were used: vote with an SSH signature');
    const secretName = options.totpSecretName(request.principal);
    let secret: string;
    try {
      secret = (await options.secrets.read(secretName)).value;
    } catch {
      return refuse('no-totp-secret', `no one-time code is enrolled for ${request.principal} (secret ${secretName} is not set): vote with an SSH signature, or enrol them`);
    }
    const lastUsedStep = await options.usedCodes.lastStep(request.principal);
    let checked;
    try {
      checked = verifyTotp(secret, request.code, { at: now(), window: 1, lastUsedStep });
    } catch (error) {
      if (error instanceof TotpError) return refuse('no-totp-secret', `the TOTP secret of ${request.principal} (secret ${secretName}) is unusable: ${error.message}`);
      throw error;
    }
    if (!checked.ok) return refuse(checked.reason, checked.message);
    const use = activityIdentity() ?? { workflowId: request.statement.workflowId, activityId: `${request.statement.decision}:${request.statement.gate}` };
    if (!(await options.usedCodes.take(request.principal, checked.step, use))) return refuse('reused-code', 'this one-time code (or a later one) was already used: wait for the next code');
    return { ok: true, method: 'totp', principal: request.principal, step: checked.step };
  }

  return {
    async verifyVoteProof(request: VoteProofRequest): Promise<VoteProofVerdict> {
      const wantsSsh = request.authentication !== 'totp';
      const wantsCode = request.authentication !== 'ssh';
      if (wantsSsh && request.signature !== undefined) return checkSignature(request);
      if (wantsCode && request.code !== undefined) return checkCode(request);
      return refuse('missing-proof', 'the vote carries no proof');
    },
  };
}

export type VoteProofActivities = ReturnType<typeof createVoteProofActivities>;
