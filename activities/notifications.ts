import type { Notifier } from './ports/notifier';
import type { Notification } from '../contracts/notifications';

/** The runbook's one notification activity; the worker decides which adapters it reaches. */
export function createNotificationActivities(notifier: Notifier) {
  return {
    async notify(notification: Notification): Promise<void> {
      switch (notification.kind) {
        case 'incident-opened':
          return notifier.incidentOpened(notification);
        case 'approval-needed':
          return notifier.approvalNeeded(notification);
        case 'escalation':
          return notifier.escalation(notification);
        case 'resolved':
          return notifier.resolved(notification);
        case 'audit-alert':
          return notifier.auditAlert?.(notification);
      }
    },
  };
}
