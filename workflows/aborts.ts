import { CancelledFailure, condition, setHandler } from '@temporalio/workflow';
import type { RunbookPlan } from '../contracts/runbook-plan';
import type { AbortRequest, ProofSummary, RunbookPhase, Verdict } from '../contracts/runbook-status';
import { claimedName, controlCharacterIn, redactCredentials, safeText } from '../contracts/safe-text';
import type { AuditTrail } from './audit-trail';
import { voteRefused } from './gates/gate-lifecycle';
import { effectiveAuthentication } from './gates/proof-rules';
import type { MessageRefusals } from './message-refusals';
import { abortSignal, abortUpdate } from './messages';
import { isUnreadablePayload } from './payload-converter';
import type { Timeline } from './timeline';
import { proofDetail, proofSummary, type CheckedProof, type ProofChecks } from './vote-proofs';

/** Reasons and who aborted, as long as a person can read them on one line. */
const MAX_ABORT_REASON = 1000;
const identity = (name: string) => name.trim().toLowerCase();

/** What the abort desk reads of the runbook it stops. */
export interface AbortContext {
  timeline: Timeline;
  audit: AuditTrail;
  batched: boolean;
  /** Runs since the vote-proofs patch: only incident commanders abort, with a proof; every refusal recorded. */
  secured: boolean;
  refusals: MessageRefusals;
  proofs: ProofChecks;
  mode(): 'real' | 'drill';
  phase(): RunbookPhase;
  verdict(): Verdict | undefined;
  currentStep(): string | undefined;
  /** The plan once read (who may abort); `planSettled` says the attempt to read it is over. */
  plan(): RunbookPlan | undefined;
  planSettled(): boolean;
  /** No more votes are taken (said why). */
  freezeVotes(reason: string): void;
  /** The body's scope is cancelled: the running step hears of it, compensations follow. */
  cancelBody(): void;
}

/**
 * The incident commander's abort, by Update (the CLI) or by Signal (the Web UI): the request checked,
 * recorded, and the runbook stopped. Refused requests change nothing and are recorded.
 */
export class AbortDesk {
  private request?: { by: string; reason: string; at: string; proof?: ProofSummary };
  /** Abort messages being decided (their proof checked); the runbook waits for them before it starts and before it ends. */
  private pending = 0;

  constructor(private readonly run: AbortContext) {}

  get accepted(): { by: string; reason: string; at: string; proof?: ProofSummary } | undefined {
    return this.request;
  }

  get inFlight(): number {
    return this.pending;
  }

  throwIfAborted(): void {
    if (this.request) throw new CancelledFailure(`aborted by ${this.request.by}`);
  }

  registerHandlers(): void {
    if (this.run.secured) {
      setHandler(abortUpdate, (request) => this.cast(request, 'update'));
      setHandler(abortSignal, (request) => this.cast(request, 'signal').then(() => undefined, () => undefined));
      return;
    }
    setHandler(abortUpdate, (request) => this.accept(request, 'update'), {
      validator: (request) => {
        const refusal = this.refusal(request);
        if (refusal) throw new Error(refusal);
      },
    });
    setHandler(abortSignal, (request) => {
      const refusal = this.refusal(request);
      if (refusal) {
        const who = claimedName(request?.by);
        this.run.timeline.add({ step: `abort signal from ${who}`, outcome: 'refused', detail: refusal }, true);
        this.run.audit.record(who, 'abort-refused', { reason: refusal, via: 'signal' });
        if (!this.run.batched) this.run.audit.writeInBackground();
        return;
      }
      this.accept(request, 'signal');
    });
  }

  private refusal(request: unknown): string | undefined {
    if (isUnreadablePayload(request)) return `the abort message could not be read (${safeText(request.unreadablePayload, 200)}): send JSON {by, reason}`;
    if (typeof request !== 'object' || request === null) return 'the abort payload must be an object {by, reason}';
    const { by, reason } = request as Partial<AbortRequest>;
    if (typeof by !== 'string' || by.trim() === '') return 'by: required (who aborts the runbook)';
    if (typeof reason !== 'string' || reason.trim() === '') return 'reason: required (why the runbook is aborted)';
    const phase = this.run.phase();
    if (phase === 'finished' || phase === 'compensating') return `the runbook is already ending (${this.run.verdict() ?? phase})`;
    if (this.request) return `already aborted by ${this.request.by} at ${this.request.at}`;
    return undefined;
  }

  /**
   * A secured abort: its shape, then who may abort (the plan's incident commanders) and its proof,
   * checked by the worker, then the shape again (the runbook may be ending by then). An abort that
   * arrives while the runbook starts waits for the plan that says who may abort.
   */
  private async cast(raw: unknown, via: 'update' | 'signal'): Promise<{ accepted: true }> {
    const refuse = (reason: string): never => {
      throw voteRefused(this.run.refusals.record('abort', via, (raw as Partial<AbortRequest> | null)?.by, reason));
    };
    const early = this.run.proofs.replayRefusal(raw) ?? this.refusal(raw) ?? textRefusal(raw);
    if (early) return refuse(early);
    const request = raw as AbortRequest;
    this.pending++;
    let proof: CheckedProof | undefined;
    try {
      if (!this.run.planSettled()) await condition(() => this.run.planSettled());
      const plan = this.run.plan();
      if (!plan) return refuse('the runbook ended before its plan (who may abort) was loaded');
      const abort = plan.abort;
      if (abort) {
        const commander = abort.commanders.find((c) => identity(c) === identity(request.by));
        if (!commander) return refuse(`"${safeText(request.by.trim(), 128)}" is not an incident commander of this runbook (${abort.commanders.join(', ')}): only they may abort it`);
        const authentication = effectiveAuthentication(abort.authentication, this.run.mode(), plan.drill?.authentication);
        const shape = this.run.proofs.precheck(authentication, request);
        if (shape) return refuse(shape);
        proof = await this.run.proofs.check(authentication, commander, 'abort', '', request.by, request.reason, request);
        if (!proof.ok) return refuse(proof.reason);
      }
      const late = this.refusal(raw);
      if (late) return refuse(late);
      return this.accept(request, via, proof?.ok ? proof : undefined);
    } finally {
      this.pending--;
    }
  }

  private accept(request: AbortRequest, via: 'update' | 'signal', proof?: CheckedProof & { ok: true }): { accepted: true } {
    this.request = { by: request.by.trim(), reason: request.reason, at: new Date().toISOString(), ...(proof ? { proof: proofSummary(proof) } : {}) };
    this.run.freezeVotes(`the runbook was aborted by ${this.request.by}; no more votes are taken`);
    this.run.timeline.add({ step: 'abort', outcome: 'aborted', detail: `by ${this.request.by}: ${request.reason}` }, true);
    this.run.audit.record(this.request.by, 'abort', { reason: request.reason, via, during: this.run.currentStep() ?? this.run.phase(), ...(proof ? { proof: proofDetail(proof) } : {}) });
    if (!this.run.batched) this.run.audit.writeInBackground();
    this.run.cancelBody();
    return { accepted: true };
  }
}

/** Control characters or a novel for a reason are refused (secured runs). */
function textRefusal(raw: unknown): string | undefined {
  const { by, reason } = raw as AbortRequest;
  if (by.length > 128) return 'by: must be at most 128 characters';
  if (reason.length > MAX_ABORT_REASON) return `reason: must be at most ${MAX_ABORT_REASON} characters`;
  for (const [field, text] of [['by', by], ['reason', reason]] as const) {
    const control = controlCharacterIn(text);
    if (control) return `${field}: contains the control character ${control}; line breaks and other control characters are refused`;
    if (redactCredentials(text) !== text) return `${field}: carries a URL with a password in it; the trail is append-only, so leave the password out`;
  }
  return undefined;
}
