/**
 * Notifier port: tells people about a runbook. Adapters: console (local default), HTTP webhook, Slack,
 * PagerDuty. Messages carry names and identifiers only — never secrets, connection strings or customer data.
 */
import type { Notification } from '../../contracts/notifications';

export interface Notifier {
  incidentOpened(n: Extract<Notification, { kind: 'incident-opened' }>): Promise<void>;
  approvalNeeded(n: Extract<Notification, { kind: 'approval-needed' }>): Promise<void>;
  escalation(n: Extract<Notification, { kind: 'escalation' }>): Promise<void>;
  resolved(n: Extract<Notification, { kind: 'resolved' }>): Promise<void>;
  /** Audit trails failed verification; an adapter without it is told nothing (the verification still fails). */
  auditAlert?(n: Extract<Notification, { kind: 'audit-alert' }>): Promise<void>;
}

/** Sends to every notifier; one failing adapter does not silence the others, but the failure is raised. */
export function fanOutNotifier(notifiers: Notifier[]): Notifier {
  const all = async (send: (n: Notifier) => Promise<void>) => {
    const results = await Promise.allSettled(notifiers.map(send));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) throw new Error(`${failed.length} of ${notifiers.length} notifier(s) failed: ${failed.map((f) => (f.reason as Error).message).join('; ')}`);
  };
  return {
    incidentOpened: (n) => all((x) => x.incidentOpened(n)),
    approvalNeeded: (n) => all((x) => x.approvalNeeded(n)),
    escalation: (n) => all((x) => x.escalation(n)),
    resolved: (n) => all((x) => x.resolved(n)),
    auditAlert: (n) => all((x) => x.auditAlert?.(n) ?? Promise.resolve()),
  };
}
