import { deliveryHeader, eventHeader, signatureHeader, signWebhookBody } from '../../../lib/webhook-signature';
import type { Notification } from '../../../contracts/notifications';
import { deliveryIdOf, notifierFrom, type Notifier } from '../../ports/notifier';
import type { SecretStore } from '../../ports/secret-store';
import { channelSecret, deliver, type DeliveryDependencies } from './delivery';
import { buildIncidentMessage, type IncidentMessage, type MessageContext } from './incident-message';

/**
 * Our generic webhook, for whatever the other channels do not reach (a ticketing system, an audit
 * archive, a chat without incoming webhooks): the notification as JSON, signed as lib/webhook-signature.ts
 * describes. X-DR-Delivery is a hash of the notification, the same on every retry and from every
 * worker, so a receiver that keeps the ids it has seen acts once.
 */

export interface SignedWebhookNotifierOptions {
  name: string;
  url: string;
  /** Name of the secret holding the shared HMAC key. */
  signingSecret: string;
  secrets: SecretStore;
  messages: MessageContext;
  delivery?: DeliveryDependencies;
  /** Unix seconds, for the signature's timestamp. */
  nowSeconds?: () => number;
}

const events = {
  'incident-opened': 'incident.opened',
  'approval-needed': 'approval.needed',
  'gate-decided': 'gate.decided',
  escalation: 'incident.escalated',
  'status-update': 'incident.updated',
  resolved: 'incident.resolved',
  'audit-alert': 'audit.alert',
} as const satisfies Record<Notification['kind'], string>;

/** incident.resolved only when the runbook completed; otherwise runbook.ended (the incident goes on). */
export function webhookEventOf(n: Notification): string {
  return n.kind === 'resolved' && n.verdict !== 'completed' ? 'runbook.ended' : events[n.kind];
}

export interface SignedWebhookBody {
  id: string;
  event: string;
  notification: Notification;
  message: Pick<IncidentMessage, 'subject' | 'intro' | 'fields' | 'closing' | 'context' | 'approval' | 'link' | 'text'>;
}

export function signedWebhookBody(n: Notification, message: IncidentMessage): SignedWebhookBody {
  const { subject, intro, fields, closing, context, approval, link, text } = message;
  return { id: deliveryIdOf(n), event: webhookEventOf(n), notification: n, message: { subject, intro, fields, closing, context, approval, link, text } };
}

export function createSignedWebhookNotifier(options: SignedWebhookNotifierOptions): Notifier {
  const label = `webhook "${options.name}"`;
  const nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  return notifierFrom(async (n) => {
    const key = await channelSecret(label, options.secrets, options.signingSecret, 'signing secret');
    const payload = signedWebhookBody(n, buildIncidentMessage(n, options.messages));
    const body = JSON.stringify(payload);
    await deliver(
      { label, secrets: [key, options.url] },
      {
        method: 'POST',
        url: options.url,
        headers: () => ({
          'content-type': 'application/json',
          'user-agent': 'dr-runbooks',
          [eventHeader]: payload.event,
          [deliveryHeader]: payload.id,
          // Signed again per attempt: a retry carries a fresh timestamp inside the receiver's tolerance.
          [signatureHeader]: signWebhookBody(key, body, nowSeconds()),
        }),
        body,
      },
      options.delivery,
    );
  });
}
