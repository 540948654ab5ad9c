import type { Notifier } from '../../ports/notifier';
import { createPagerDutyNotifier, type PagerDutyNotifierOptions } from './pagerduty';
import { createSignedWebhookNotifier, type SignedWebhookNotifierOptions } from './signed-webhook';
import { createSlackNotifier, type SlackNotifierOptions } from './slack';
import { createStatuspageNotifier, type StatuspageNotifierOptions } from './statuspage';

// The webhooks family's public face: one Notifier per channel that posts to a service over HTTP.
export type { DeliveryDependencies } from './delivery';
export type { MessageContext } from './incident-message';

/** One configured channel of this family, by its config `type`. */
export type WebhookChannel =
  | ({ type: 'slack' } & SlackNotifierOptions)
  | ({ type: 'pagerduty' } & PagerDutyNotifierOptions)
  | ({ type: 'statuspage' } & StatuspageNotifierOptions)
  | ({ type: 'webhook' } & SignedWebhookNotifierOptions);

export function createWebhookNotifier(channel: WebhookChannel): Notifier {
  switch (channel.type) {
    case 'slack':
      return createSlackNotifier(channel);
    case 'pagerduty':
      return createPagerDutyNotifier(channel);
    case 'statuspage':
      return createStatuspageNotifier(channel);
    case 'webhook':
      return createSignedWebhookNotifier(channel);
  }
}
