import { createConsoleNotifier } from '../activities/adapters/local/console-notifier';
import { fanOutNotifier, type Notifier } from '../activities/ports/notifier';
import type { NotifierConfig } from './config';

/** One adapter per configured notifier; all of them receive every notification. */
export function createNotifier(configs: NotifierConfig[]): Notifier {
  const notifiers = configs.map((config): Notifier => {
    switch (config.type) {
      case 'console':
        return createConsoleNotifier();
    }
  });
  return fanOutNotifier(notifiers);
}
