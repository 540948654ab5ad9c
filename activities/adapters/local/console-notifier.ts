import { describeNotification } from '../../../contracts/notifications';
import { notifierFrom, type Notifier } from '../../ports/notifier';

/** The local default: one line per notification on the worker's console (or any line sink). */
export function createConsoleNotifier(write: (line: string) => void = (line) => console.log(line)): Notifier {
  return notifierFrom(async (n) => write(`[dr-notify] ${describeNotification(n)}`));
}
