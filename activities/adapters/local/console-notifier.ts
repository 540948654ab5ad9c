import { type Notifier } from '../../ports/notifier';
import { describeNotification, type Notification } from '../../../contracts/notifications';

/** The local default: one line per notification on the worker's console (or any line sink). */
export function createConsoleNotifier(write: (line: string) => void = (line) => console.log(line)): Notifier {
  const send = async (n: Notification) => write(`[dr-notify] ${describeNotification(n)}`);
  return { incidentOpened: send, approvalNeeded: send, escalation: send, resolved: send, auditAlert: send };
}
