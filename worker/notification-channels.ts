import type { Notification } from '../contracts/notifications';
import { deliveryIdOf, notifierFrom, sendTo, type Notifier } from '../activities/ports/notifier';

/**
 * The configured channels behind one Notifier, whatever family each channel's adapter is (the console,
 * the webhooks): the wiring point builds the channels and puts this router in front of them. Every
 * notification goes to every channel, except escalations: with an audiences map (seed 001's ladder:
 * technical-team, management, executives…) an escalation goes to the channels listed for its audience,
 * and a channel marked escalationsOnly hears nothing else. Channels are sent to in parallel; one that
 * fails does not keep the others from receiving, and the error names it (the runbook puts it on its
 * timeline).
 *
 * When the notify activity is retried after a partial failure, the channels that already have the
 * notification (same delivery id, same worker) are not sent it again: Slack has no idempotency key.
 */

export interface NotificationChannel {
  name: string;
  notifier: Notifier;
  /** Receives only the escalations routed to it by the audiences map. */
  escalationsOnly?: boolean;
}

export class NotificationChannelsError extends Error {
  constructor(
    message: string,
    readonly failed: Array<{ channel: string; error: string }>,
    readonly delivered: string[],
  ) {
    super(message);
    this.name = 'NotificationChannelsError';
  }
}

/** The channel names a notification goes to. */
export function channelsFor(n: Notification, channels: NotificationChannel[], audiences?: Record<string, string[]>): string[] {
  // Tampering with the record is for everyone who hears anything, the leadership channels included.
  if (n.kind === 'audit-alert') return channels.map((c) => c.name);
  if (n.kind === 'escalation') {
    const mapped = audiences?.[n.audience];
    if (mapped) return channels.filter((c) => mapped.includes(c.name)).map((c) => c.name);
    // No map at all: everyone hears it. An audience the map does not know: the everyday channels do, rather than nobody.
    if (!audiences) return channels.map((c) => c.name);
  }
  return channels.filter((c) => !c.escalationsOnly).map((c) => c.name);
}

const rememberedDeliveries = 2_000;

export function createChannelRouter(channels: NotificationChannel[], audiences?: Record<string, string[]>): Notifier {
  const byName = new Map(channels.map((c) => [c.name, c]));
  const delivered = new Set<string>();
  const remember = (key: string) => {
    delivered.add(key);
    if (delivered.size > rememberedDeliveries) delivered.delete(delivered.values().next().value as string);
  };

  return notifierFrom(async (n) => {
    const id = deliveryIdOf(n);
    const targets = channelsFor(n, channels, audiences);
    const pending = targets.filter((name) => !delivered.has(`${id} ${name}`));
    const results = await Promise.allSettled(pending.map((name) => sendTo(byName.get(name)!.notifier, n)));
    const failed: Array<{ channel: string; error: string }> = [];
    results.forEach((result, i) => {
      const name = pending[i]!;
      if (result.status === 'fulfilled') remember(`${id} ${name}`);
      else failed.push({ channel: name, error: (result.reason as Error).message ?? String(result.reason) });
    });
    if (failed.length) {
      const ok = targets.filter((name) => !failed.some((f) => f.channel === name));
      const what = n.kind === 'escalation' ? `escalation to ${n.audience}` : n.kind;
      throw new NotificationChannelsError(
        `${what}: ${failed.length} of ${targets.length} channel(s) failed (${failed.map((f) => f.channel).join(', ')}); ${ok.length ? `delivered to ${ok.join(', ')}` : 'delivered to none'}. ${failed.map((f) => f.error).join('; ')}`,
        failed,
        ok,
      );
    }
  });
}
