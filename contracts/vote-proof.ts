import type { VoteAuthentication } from './runbook-plan';

// What the workflow asks the worker to check about a vote's proof, and what it answers. The check runs in
// an activity: an SSH signature needs crypto, a one-time code needs the approver's secret, which stays in
// the worker's secret store and never enters history.

export type VoteDecision = 'approve' | 'reject' | 'abort';

export interface VoteProofRequest {
  /** What the gate (or the abort) accepts. */
  authentication: Exclude<VoteAuthentication, 'none'>;
  /** The listed name the vote is for: the principal in the allowed signers, the owner of the TOTP secret. */
  principal: string;
  /** The statement the signature must be over, without its time (which the vote carries). */
  statement: { namespace: string; workflowId: string; runId: string; gate: string; decision: VoteDecision; by: string; comment: string };
  /** As the message carried them: unchecked. */
  signature?: unknown;
  time?: unknown;
  code?: unknown;
}

/**
 * Why a proof was refused, as a word a program can branch on: an SSH signature's (lib/ssh-signature),
 * a one-time code's (lib/totp), or the check's own (missing-proof, stale-statement, …). The message says it for people.
 */
export type VoteProofRefusal = string;

export interface SshVoteProof {
  ok: true;
  method: 'ssh';
  principal: string;
  fingerprint: string;
  keyType: string;
  /** The exact statement that was signed, and the signature: with `allowedSignersLine` an auditor runs `ssh-keygen -Y verify` alone. */
  statement: string;
  signature: string;
  allowedSignersLine: string;
  signatureNamespace: string;
}

export interface TotpVoteProof {
  ok: true;
  method: 'totp';
  principal: string;
  /** The RFC 6238 time step of the code (never the code). */
  step: number;
}

export type VoteProofVerdict = SshVoteProof | TotpVoteProof | { ok: false; reason: VoteProofRefusal; message: string };
