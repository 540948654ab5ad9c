import { claimedName, safeText } from '../contracts/safe-text';
import type { AuditTrail } from './audit-trail';
import type { Timeline } from './timeline';

/** Past this many, refusals are still answered but no longer recorded one by one (a flood must not fill the trail). */
const MAX_RECORDED_REFUSALS = 100;
/** Names the runbook itself records under: a message claiming one is recorded as a claim. */
const reservedActors = new Set(['runbook', 'drill-policy', 'unknown']);

export type MessageKind = 'approve' | 'reject' | 'abort';

/**
 * Every message a runbook refuses (a vote, an abort; by Signal or by Update), on the timeline and in the
 * audit trail, in a safe form: whatever the sender typed is cut, escaped and redacted (contracts/safe-text)
 * before it is kept, so no payload can fail the trail's writer, forge a line or leak a password.
 */
export class MessageRefusals {
  private recorded = 0;
  private unrecorded = 0;

  constructor(
    private readonly timeline: Timeline,
    private readonly audit: AuditTrail,
    private readonly writeSoon: () => void,
  ) {}

  get count(): number {
    return this.recorded + this.unrecorded;
  }

  /** Records one refusal; returns the reason as the sender is told it (safe). */
  record(kind: MessageKind, via: 'signal' | 'update', claimed: unknown, reason: string, detail: { gate?: unknown } = {}): string {
    const said = safeText(reason, 1000);
    if (this.recorded >= MAX_RECORDED_REFUSALS) {
      this.unrecorded++;
      return said;
    }
    this.recorded++;
    const who = claimedName(claimed);
    const actor = reservedActors.has(who.toLowerCase()) ? `claimed:${who}` : who;
    this.timeline.add({ step: `${kind} ${via} from ${who}`, outcome: 'refused', detail: said }, true);
    this.audit.record(actor, `${kind}-refused`, { ...(kind === 'abort' ? {} : { gate: typeof detail.gate === 'string' ? safeText(detail.gate, 80) : null }), reason: said, via, verified: false });
    if (this.recorded === MAX_RECORDED_REFUSALS) {
      this.timeline.add({ step: 'refused messages', outcome: 'refused', detail: `${MAX_RECORDED_REFUSALS} refused messages recorded; further ones are refused without a record of their own (their count is in the runbook's end)` }, true);
    }
    this.writeSoon();
    return said;
  }
}
