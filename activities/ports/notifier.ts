/**
 * Notifier port: tells people about a runbook. Adapters: console (local default); Slack, PagerDuty,
 * Statuspage and a signed HTTP webhook (webhooks). What a notification says is a contract
 * (contracts/notifications.ts): names and identifiers only — never secrets, connection strings or
 * customer data.
 */
import { createHash } from 'node:crypto';
import type { Notification, NotificationOf } from '../../contracts/notifications';

export interface Notifier {
  incidentOpened(n: NotificationOf<'incident-opened'>): Promise<void>;
  approvalNeeded(n: NotificationOf<'approval-needed'>): Promise<void>;
  gateDecided(n: NotificationOf<'gate-decided'>): Promise<void>;
  escalation(n: NotificationOf<'escalation'>): Promise<void>;
  statusUpdate(n: NotificationOf<'status-update'>): Promise<void>;
  resolved(n: NotificationOf<'resolved'>): Promise<void>;
  /** Audit trails failed verification (the scheduled verification still fails when no channel hears it). */
  auditAlert(n: NotificationOf<'audit-alert'>): Promise<void>;
}

/** A Notifier from one function that takes every kind: what most adapters are. */
export function notifierFrom(send: (n: Notification) => Promise<void>): Notifier {
  return { incidentOpened: send, approvalNeeded: send, gateDecided: send, escalation: send, statusUpdate: send, resolved: send, auditAlert: send };
}

/** Calls the notifier's method for the notification's kind. */
export function sendTo(notifier: Notifier, n: Notification): Promise<void> {
  switch (n.kind) {
    case 'incident-opened':
      return notifier.incidentOpened(n);
    case 'approval-needed':
      return notifier.approvalNeeded(n);
    case 'gate-decided':
      return notifier.gateDecided(n);
    case 'escalation':
      return notifier.escalation(n);
    case 'status-update':
      return notifier.statusUpdate(n);
    case 'resolved':
      return notifier.resolved(n);
    case 'audit-alert':
      return notifier.auditAlert(n);
  }
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().filter((k) => (value as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The notification's identity, the same on every retry and every worker (a hash of its content): the
 * signed webhook's X-DR-Delivery, and how a retried fan-out knows which channels already have it.
 */
export function deliveryIdOf(n: Notification): string {
  return `${n.kind}-${createHash('sha256').update(stableJson(n)).digest('hex').slice(0, 32)}`;
}
