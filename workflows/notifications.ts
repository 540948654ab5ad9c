import { isCancellation, proxyActivities } from '@temporalio/workflow';
import type { createNotificationActivities } from '../activities/notifications';
import { errorText } from '../contracts/error-text';
import type { Notification } from '../contracts/notifications';
import type { AuditTrail } from './audit-trail';
import type { Timeline } from './timeline';

const { notify } = proxyActivities<ReturnType<typeof createNotificationActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
  summary: 'notify people',
});

/**
 * Telling people about the runbook. A notification that cannot be sent goes on the timeline and in the
 * audit trail; it does not stop a recovery. `inOrder` (new runs, which send the first one beside the
 * first step): each is sent after the one before it, so nobody hears "approval needed" before "opened".
 */
export class Notifications {
  private previous: Promise<void> = Promise.resolve();

  constructor(
    private readonly timeline: Timeline,
    private readonly audit: AuditTrail,
    private readonly inOrder: boolean,
    /** Called just before a notification is scheduled. */
    private readonly beforeSend: () => void,
  ) {}

  send(notification: Notification): Promise<void> {
    const send = async () => {
      this.beforeSend();
      try {
        await notify(notification);
      } catch (error) {
        if (isCancellation(error)) throw error;
        this.timeline.add({ step: `notification: ${notification.kind}`, outcome: 'failed', detail: errorText(error) }, true);
        this.audit.record('runbook', 'notification-failed', { kind: notification.kind, detail: errorText(error) });
      }
    };
    const run = this.inOrder ? this.previous.then(send) : send();
    this.previous = run.catch(() => undefined);
    return run;
  }
}
