// What people are told about a runbook, and the one line that says it. Messages carry names and
// identifiers only: never secrets, connection strings or customer data.

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
  | { kind: 'resolved'; runbook: RunbookRef; verdict: string; detail?: string }
  /** The scheduled verification found audit trails that do not verify (edited, rewritten, cut short). */
  | { kind: 'audit-alert'; environment: string; failed: Array<{ workflowId: string; problems: string[] }>; checked: number };

/** One line a person can read at 3 a.m.; adapters that post text use it. */
export function describeNotification(n: Notification): string {
  if (n.kind === 'audit-alert') {
    return `AUDIT ALERT (${n.environment}): ${n.failed.length} of ${n.checked} audit trail(s) fail verification: ${n.failed.map((f) => `${f.workflowId} (${f.problems.join('; ')})`).join(', ')}`;
  }
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
