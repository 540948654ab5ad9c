/**
 * Notifier port: tells people about a runbook. Adapters: console (local default), HTTP webhook, Slack,
 * PagerDuty. Messages carry names and identifiers only — never secrets, connection strings or customer data.
 */
export interface RunbookRef {
  workflowId: string;
  scenario: string;
  environment: string;
  incidentId: string;
  mode: 'real' | 'drill';
}

export type Notification =
  | { kind: 'incident-opened'; runbook: RunbookRef; startedBy: string }
  | { kind: 'approval-needed'; runbook: RunbookRef; gate: string; approvers: string[]; quorum: number; deadlineAt: string }
  | { kind: 'escalation'; runbook: RunbookRef; gate: string; audience: string; waitingSince: string; deadlineAt: string }
  | { kind: 'resolved'; runbook: RunbookRef; verdict: string; detail?: string };

export interface Notifier {
  incidentOpened(n: Extract<Notification, { kind: 'incident-opened' }>): Promise<void>;
  approvalNeeded(n: Extract<Notification, { kind: 'approval-needed' }>): Promise<void>;
  escalation(n: Extract<Notification, { kind: 'escalation' }>): Promise<void>;
  resolved(n: Extract<Notification, { kind: 'resolved' }>): Promise<void>;
}

/** One line a person can read at 3 a.m.; adapters that post text use it. */
export function describeNotification(n: Notification): string {
  const rb = `${n.runbook.mode === 'drill' ? '[DRILL] ' : ''}${n.runbook.scenario} ${n.runbook.incidentId} (${n.runbook.environment}, workflow ${n.runbook.workflowId})`;
  switch (n.kind) {
    case 'incident-opened':
      return `Incident opened: ${rb}, started by ${n.startedBy}`;
    case 'approval-needed':
      return `Approval needed: gate "${n.gate}" of ${rb} needs ${n.quorum} of ${n.approvers.join(', ')} before ${n.deadlineAt}`;
    case 'escalation':
      return `Escalation to ${n.audience}: gate "${n.gate}" of ${rb} has waited since ${n.waitingSince}; it fails closed at ${n.deadlineAt}`;
    case 'resolved':
      return `Resolved: ${rb} ended ${n.verdict}${n.detail ? `: ${n.detail}` : ''}`;
  }
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
  };
}
