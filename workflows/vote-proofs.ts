import { CancellationScope, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { VoteProofActivities } from '../activities/vote-proofs';
import { errorText } from '../contracts/error-text';
import type { VoteAuthentication } from '../contracts/runbook-plan';
import type { ProofSummary, VoteProof } from '../contracts/runbook-status';
import type { SshVoteProof, TotpVoteProof, VoteDecision, VoteProofVerdict } from '../contracts/vote-proof';
import { proofRefusal, signatureIdentity } from './gates/proof-rules';

const { verifyVoteProof } = proxyActivities<VoteProofActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
  summary: 'check a vote\'s proof (SSH signature or one-time code)',
});

export type CheckedProof = { ok: true; proof: SshVoteProof | TotpVoteProof | { method: 'none' } } | { ok: false; reason: string };

/** What the status and report show of a proof; the audit trail gets `proofDetail`. */
export function proofSummary(proof: CheckedProof & { ok: true }): ProofSummary {
  return proof.proof.method === 'ssh' ? { method: 'ssh', fingerprint: proof.proof.fingerprint } : { method: proof.proof.method };
}

/** Everything an auditor needs to check an SSH-signed vote with `ssh-keygen -Y verify` from the trail alone. */
export function proofDetail(proof: CheckedProof & { ok: true }): Record<string, unknown> {
  const p = proof.proof;
  if (p.method === 'ssh') {
    return { method: 'ssh', principal: p.principal, fingerprint: p.fingerprint, keyType: p.keyType, signatureNamespace: p.signatureNamespace, statement: p.statement, signature: p.signature, allowedSignersLine: p.allowedSignersLine };
  }
  if (p.method === 'totp') return { method: 'totp', principal: p.principal, step: p.step };
  return { method: 'none' };
}

/**
 * A vote's or an abort's proof, checked: its shape here, then the signature or code by the worker (an
 * activity, never cancelled half-way, so its answer is always recorded). A proof already used in this run
 * is refused; a worker that cannot check refuses too, saying why. Never throws.
 */
export class ProofChecks {
  private readonly usedSignatures = new Set<string>();
  private readonly lastCodeStep = new Map<string, number>();
  private running = 0;

  /** Checks in flight: the runbook waits for them before its last audit write. */
  get inFlight(): number {
    return this.running;
  }

  /** The shape check alone (no activity): why the proof cannot do, or undefined. */
  precheck(authentication: VoteAuthentication, proof: VoteProof): string | undefined {
    return proofRefusal(authentication, proof) ?? this.replayRefusal(proof);
  }

  /** A signature this runbook has already accepted, sent again (as anyone, for anything). */
  replayRefusal(message: unknown): string | undefined {
    const signature = typeof message === 'object' && message !== null ? (message as VoteProof).signature : undefined;
    if (typeof signature === 'string' && this.usedSignatures.has(signatureIdentity(signature))) return 'this signature was already used in this runbook: a signature counts once (a replay, or sign the vote again)';
    return undefined;
  }

  async check(authentication: VoteAuthentication, principal: string, decision: VoteDecision, gate: string, by: string, comment: string, proof: VoteProof): Promise<CheckedProof> {
    if (authentication === 'none') return { ok: true, proof: { method: 'none' } };
    const info = workflowInfo();
    this.running++;
    let verdict: VoteProofVerdict;
    try {
      verdict = await CancellationScope.nonCancellable(() => verifyVoteProof({
        authentication,
        principal,
        statement: { namespace: info.namespace, workflowId: info.workflowId, runId: info.runId, gate, decision, by, comment },
        ...(proof.signature !== undefined ? { signature: proof.signature, time: proof.time } : {}),
        ...(proof.code !== undefined ? { code: typeof proof.code === 'number' ? String(proof.code) : proof.code } : {}),
      }));
    } catch (error) {
      return { ok: false, reason: `the worker could not check the proof: ${errorText(error)}` };
    } finally {
      this.running--;
    }
    if (!verdict.ok) return { ok: false, reason: `proof refused (${verdict.reason}): ${verdict.message}` };
    if (verdict.method === 'ssh') {
      const id = signatureIdentity(verdict.signature);
      if (this.usedSignatures.has(id)) return { ok: false, reason: 'this signature was already used in this runbook: a signature counts once (a replay, or sign the vote again)' };
      this.usedSignatures.add(id);
    } else {
      const last = this.lastCodeStep.get(verdict.principal);
      if (last !== undefined && verdict.step <= last) return { ok: false, reason: 'this one-time code (or a later one) was already used: wait for the next code' };
      this.lastCodeStep.set(verdict.principal, verdict.step);
    }
    return { ok: true, proof: verdict };
  }
}
