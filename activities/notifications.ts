import type { Notification } from '../contracts/notifications';
import { sendTo, type Notifier } from './ports/notifier';

/** The runbook's one notification activity; the worker decides which adapters it reaches. */
export function createNotificationActivities(notifier: Notifier) {
  return {
    async notify(notification: Notification): Promise<void> {
      return sendTo(notifier, notification);
    },
  };
}
