import { createConsoleNotifier } from '../activities/platform/local/console-notifier';
import type { Notifier } from '../activities/platform/notifier';
import { createChannelRouter } from '../activities/notification-channels';
import type { DeliveryDependencies } from '../activities/adapters/webhooks/delivery';
import { createPagerDutyNotifier } from '../activities/adapters/webhooks/pagerduty';
import { createSignedWebhookNotifier } from '../activities/adapters/webhooks/signed-webhook';
import { createSlackNotifier } from '../activities/adapters/webhooks/slack';
import { createStatuspageNotifier } from '../activities/adapters/webhooks/statuspage';
import { channelNameOf, type WorkerConfig } from './config';
import type { SecretResolver } from './secrets';

export interface NotifierWiring {
  /** Resolves the secrets the channels name, at send time (a rotated secret is picked up). */
  secret: SecretResolver;
  /** The worker's Temporal namespace, for Web UI links. */
  namespace?: string;
  /** Retry policy and HTTP client (tests). */
  delivery?: DeliveryDependencies;
}

/** One adapter per configured notifier, behind the channel router (escalations by audience). */
export function createNotifier(config: Pick<WorkerConfig, 'notifiers' | 'audiences' | 'messages'>, wiring: NotifierWiring): Notifier {
  const messages = { ...config.messages, ...(wiring.namespace ? { namespace: wiring.namespace } : {}) };
  const common = { secret: wiring.secret, messages, ...(wiring.delivery ? { delivery: wiring.delivery } : {}) };
  const channels = config.notifiers.map((n) => {
    const name = channelNameOf(n);
    const notifier = ((): Notifier => {
      switch (n.type) {
        case 'console':
          return createConsoleNotifier();
        case 'slack':
          return createSlackNotifier({ name, webhookUrlSecret: n.webhookUrlSecret, ...(n.channel ? { channel: n.channel } : {}), ...common });
        case 'pagerduty':
          return createPagerDutyNotifier({ name, routingKeySecret: n.routingKeySecret, eventsUrl: n.eventsUrl, source: n.source, component: n.component, drills: n.drills, severity: n.severity, ...common });
        case 'statuspage':
          return createStatuspageNotifier({ name, pageId: n.pageId, apiKeySecret: n.apiKeySecret, apiUrl: n.apiUrl, customerFacingScenarios: n.customerFacingScenarios, components: n.components, deliverNotifications: n.deliverNotifications, ...common });
        case 'webhook':
          return createSignedWebhookNotifier({ name, url: n.url, signingSecret: n.signingSecret, ...common });
      }
    })();
    return { name, notifier, escalationsOnly: n.escalationsOnly };
  });
  return createChannelRouter(channels, config.audiences);
}
