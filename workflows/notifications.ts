import { CancellationScope, isCancellation, patched, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { createNotificationActivities } from '../activities/notifications';
import { errorText } from '../contracts/error-text';
import type { IncidentStatus, Notification, RunbookRef } from '../contracts/notifications';
import type { RunbookStatus } from '../contracts/runbook-status';
import type { AuditTrail } from './audit-trail';
import type { Timeline } from './timeline';

const notifyOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
  summary: 'notify people',
} as const;
const { notify } = proxyActivities<ReturnType<typeof createNotificationActivities>>(notifyOptions);
const { notify: notifyLocally } = proxyLocalActivities<ReturnType<typeof createNotificationActivities>>(notifyOptions);

/**
 * The history shape of runs that tell people what they act on (every run since this patch): status
 * updates on a timer, the gate decisions, the ETA and next update in the opening message, who may still
 * approve, and the measured downtime and data loss at the end. Runs recorded before it replay as they ran.
 */
export const OPERATOR_NOTICES_PATCH = 'operator-notices';

/**
 * The history shape of runs whose closing notification ('resolved') is sent by the worker inside the
 * workflow task that ends the run (issue 15: many runbooks on one worker), beside the last audit batch
 * and the report, where it was an activity and one more workflow task only to take its completion. At
 * the end nothing else waits on that task, so a slow webhook holds nothing back; the run still completes
 * only once the notification was sent or its failure recorded. Only runs with the local bookkeeping ask;
 * the patch is checked when the run ends, so older runs replay as they ran.
 */
export const LOCAL_END_NOTICE_PATCH = 'local-end-notice';

/**
 * A run's bookkeeping (audit batches, report) by local activities or not: 'no' (runs before the
 * local-bookkeeping patch); 'ask-at-end' (since it: the closing notification is local if the run passes
 * LOCAL_END_NOTICE_PATCH when it ends); 'with-end-notice' (runs of one marker: local, closing notice too).
 */
export type LocalBookkeeping = 'no' | 'ask-at-end' | 'with-end-notice';

/** The seed plan's cadence: "We … will provide updates every 30 minutes." (config messages.statusUpdateEvery). */
export const defaultStatusUpdateEveryMs = 30 * 60_000;

/** The approver the drill policy decides with: no person decided, nobody is told a gate was decided. */
const drillPolicy = 'drill-policy';

/** What the notices read from the runbook they belong to. */
export interface NoticeSource {
  /** Runs with the operator-notices patch send them; older runs send what they always sent. */
  notices: boolean;
  /** Whether the run's bookkeeping is local, and with it the closing notification (see LocalBookkeeping). */
  localBookkeeping?: LocalBookkeeping;
  status(): RunbookStatus;
  ref(): RunbookRef;
  /** From the runbook's plan, once loaded. */
  statusUpdateEveryMs(): number | undefined;
}

/**
 * Telling people about the runbook. A notification that cannot be sent goes on the timeline and in the
 * audit trail; it does not stop a recovery. `inOrder` (new runs, which send the first one beside the
 * first step): each is sent after the one before it, so nobody hears "approval needed" before "opened".
 *
 * With the notices (see OPERATOR_NOTICES_PATCH) the runbook also keeps people current: the opening
 * message says when it should be over (declared + RTO objective) and when the next update comes, and
 * from then on a status update goes out every interval while the runbook runs. That is ONE timer at a
 * time, raced against the run: it is never cancelled (a run that ends first just leaves it pending, which
 * costs no history event), so a drill of a few seconds gains one TimerStarted and nothing else.
 */
export class Notifications {
  private previous: Promise<void> = Promise.resolve();
  private updatesStarted = false;

  constructor(
    private readonly timeline: Timeline,
    private readonly audit: AuditTrail,
    private readonly inOrder: boolean,
    /** Called just before a notification is scheduled. */
    private readonly beforeSend: () => void,
    private readonly source?: NoticeSource,
  ) {}

  send(notification: Notification): Promise<void> {
    return this.deliver(notification, true);
  }

  /** `flush`: run beforeSend first. A gate decision does not: what the runbook does next goes out in the same task and flushes. */
  private deliver(notification: Notification, flush: boolean): Promise<void> {
    const n = this.withNotices(notification);
    const send = async () => {
      if (flush) this.beforeSend();
      try {
        // Asked when it is sent: a run recorded before the patch has no marker here and replays the activity.
        const local = this.source?.localBookkeeping;
        const locally = n.kind === 'resolved' && (local === 'with-end-notice' || (local === 'ask-at-end' && patched(LOCAL_END_NOTICE_PATCH)));
        await (locally ? notifyLocally : notify)(n);
      } catch (error) {
        if (isCancellation(error)) throw error;
        this.timeline.add({ step: `notification: ${n.kind}`, outcome: 'failed', detail: errorText(error) }, true);
        this.audit.record('runbook', 'notification-failed', { kind: n.kind, detail: errorText(error) });
      }
    };
    const run = this.inOrder ? this.previous.then(send) : send();
    this.previous = run.catch(() => undefined);
    if (n.kind === 'incident-opened') this.startStatusUpdates();
    return run;
  }

  /** A gate was decided by people (not the drill policy, not the deadline): tell them, beside what runs next. */
  gateDecided(gate: string): void {
    if (!this.source?.notices) return;
    const view = this.source.status().gates.find((g) => g.gate === gate);
    if (!view || (view.status !== 'approved' && view.status !== 'rejected')) return;
    if (view.approvals.some((v) => v.approver === drillPolicy)) return;
    const votes = view.status === 'approved' ? view.approvals : view.rejection ? [view.rejection] : [];
    const comment = votes.map((v) => v.comment).filter((c): c is string => Boolean(c)).at(-1);
    void this.deliver({ kind: 'gate-decided', runbook: this.source.ref(), gate, decision: view.status, decidedBy: votes.map((v) => v.approver), ...(comment ? { comment } : {}) }, false).catch(() => undefined);
  }

  private everyMs(): number {
    return Math.max(1_000, this.source?.statusUpdateEveryMs() ?? defaultStatusUpdateEveryMs);
  }

  /** The fields the templates show when the runbook knows them. */
  private withNotices(n: Notification): Notification {
    if (!this.source?.notices) return n;
    const status = this.source.status();
    switch (n.kind) {
      case 'incident-opened':
        return { ...n, etaAt: n.etaAt ?? etaOf(status), nextUpdateAt: n.nextUpdateAt ?? new Date(Date.now() + this.everyMs()).toISOString() };
      case 'approval-needed':
        return n.stillMayApprove ? n : { ...n, stillMayApprove: status.gates.find((g) => g.gate === n.gate)?.stillMayApprove ?? n.approvers };
      case 'resolved':
        return {
          ...n,
          ...(status.rto.cutoverVerifiedAt || n.verdict !== 'completed' ? { downtimeSeconds: status.rto.elapsedSeconds } : {}),
          rtoObjectiveSeconds: status.rto.objectiveSeconds,
          ...(status.rpo.achievedSeconds !== undefined ? { dataLossSeconds: status.rpo.achievedSeconds } : {}),
          rpoObjectiveSeconds: status.rpo.objectiveSeconds,
        };
      default:
        return n;
    }
  }

  /**
   * A status update every interval until the runbook ends. Not cancellable, so an abort or a cancellation
   * never cancels the timer (a TimerCanceled event for nothing): once the run is ending, the timer that
   * fires sends nothing, and one still pending when the run closes is dropped with it.
   */
  private startStatusUpdates(): void {
    if (!this.source?.notices || this.updatesStarted) return;
    this.updatesStarted = true;
    const source = this.source;
    const ending = () => {
      const { phase, verdict } = source.status();
      return verdict !== undefined || phase === 'compensating' || phase === 'finished';
    };
    void CancellationScope.nonCancellable(async () => {
      for (;;) {
        const every = this.everyMs();
        await sleep(every, { summary: `status update: every ${Math.round(every / 1000)} s while the runbook runs` });
        if (ending()) return;
        await this.send(statusUpdate(source.status(), source.ref(), new Date(Date.now() + every).toISOString()));
      }
    }).catch(() => undefined);
  }
}

/** When the recovery should be done: the incident's declaration plus the RTO objective. */
function etaOf(status: RunbookStatus): string {
  return new Date(Date.parse(status.rto.declaredAt) + status.rto.objectiveSeconds * 1000).toISOString();
}

/** Where the recovery stands, in a status page's words: monitoring once the cutover is verified, identified once a step has done its work. */
function incidentStatus(status: RunbookStatus): IncidentStatus {
  if (status.rto.cutoverVerifiedAt) return 'monitoring';
  return status.timeline.some((e) => e.outcome === 'succeeded') ? 'identified' : 'investigating';
}

function statusUpdate(status: RunbookStatus, runbook: RunbookRef, nextUpdateAt: string): Notification {
  const openGate = status.openGates[0];
  const currentStep = openGate ? `waiting at gate "${openGate.gate}" for ${openGate.stillMayApprove.join(', ') || 'an approver'}` : status.currentStep;
  return {
    kind: 'status-update',
    runbook,
    status: incidentStatus(status),
    ...(currentStep ? { currentStep } : {}),
    etaAt: etaOf(status),
    nextUpdateAt,
    elapsedSeconds: status.rto.elapsedSeconds,
  };
}
