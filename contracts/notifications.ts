// What people are told about a runbook, and the one line that says it. Messages carry names and
// identifiers only: never secrets, connection strings or customer data.

export interface RunbookRef {
  workflowId: string;
  scenario: string;
  environment: string;
  incidentId: string;
  mode: 'real' | 'drill';
}

/** How bad it is for the application's users, in the seed plan's words (Critical, High, Medium, Low). */
export type ImpactLevel = 'critical' | 'high' | 'medium' | 'low';
export interface Impact {
  level: ImpactLevel;
  /** e.g. "Complete service outage". */
  summary: string;
}

/** Where the recovery stands, in the words a status page uses: resolved is its own notification. */
export type IncidentStatus = 'investigating' | 'identified' | 'monitoring';

/**
 * What the runbook tells people. Times are ISO 8601 (workflow time); durations are seconds. The fields
 * marked optional are what the message templates show when the runbook knows them; without them the
 * templates say "being assessed" or fall back to the seed plan's defaults for the scenario.
 */
export type Notification =
  | {
      kind: 'incident-opened';
      runbook: RunbookRef;
      startedBy: string;
      /** Default: the seed plan's impact for the scenario. */
      impact?: Impact;
      /** When the recovery is expected to be done (declaredAt + the RTO objective, say). */
      etaAt?: string;
      nextUpdateAt?: string;
    }
  | {
      kind: 'approval-needed';
      runbook: RunbookRef;
      gate: string;
      approvers: string[];
      quorum: number;
      deadlineAt: string;
      /** The listed approvers who may still vote (the starter is left out under the two-person rule). */
      stillMayApprove?: string[];
    }
  | {
      /** A person decided a gate: for PagerDuty, someone is on it (acknowledge). */
      kind: 'gate-decided';
      runbook: RunbookRef;
      gate: string;
      decision: 'approved' | 'rejected';
      /** Who voted for the decision, in order. */
      decidedBy: string[];
      comment?: string;
    }
  | { kind: 'escalation'; runbook: RunbookRef; gate: string; audience: string; waitingSince: string; deadlineAt: string }
  | {
      /** Sent every 30 minutes while the runbook runs (the seed plan's update cadence). */
      kind: 'status-update';
      runbook: RunbookRef;
      status: IncidentStatus;
      /** The step running now, e.g. "restore the latest backup". */
      currentStep?: string;
      impact?: Impact;
      etaAt?: string;
      nextUpdateAt: string;
      /** Time since the incident was declared (the RTO clock so far). */
      elapsedSeconds?: number;
    }
  | {
      kind: 'resolved';
      runbook: RunbookRef;
      /** completed, failed, aborted, cancelled, approval-rejected, approval-timed-out. Only completed resolves the incident. */
      verdict: string;
      detail?: string;
      /** One sentence on what was done, e.g. "promoted the standby and cut the application over". */
      resolution?: string;
      /** Total downtime: the measured RTO. */
      downtimeSeconds?: number;
      rtoObjectiveSeconds?: number;
      /** Data loss: the measured RPO (0 when nothing committed was lost). */
      dataLossSeconds?: number;
      rpoObjectiveSeconds?: number;
      postIncidentReviewAt?: string;
    }
  /** The scheduled verification found audit trails that do not verify (edited, rewritten, cut short). */
  | { kind: 'audit-alert'; environment: string; failed: Array<{ workflowId: string; problems: string[] }>; checked: number };

/** What a runbook run sends: every kind but the audit alert, which is about the trails, not one run. */
export type RunbookNotification = Exclude<Notification, { kind: 'audit-alert' }>;

export type NotificationKind = Notification['kind'];
export type NotificationOf<K extends NotificationKind> = Extract<Notification, { kind: K }>;

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
    case 'gate-decided':
      return `Gate "${n.gate}" of ${rb} ${n.decision} by ${n.decidedBy.join(', ')}${n.comment ? `: ${n.comment}` : ''}`;
    case 'escalation':
      return `Escalation to ${n.audience}: gate "${n.gate}" of ${rb} has waited since ${n.waitingSince}; it fails closed at ${n.deadlineAt}`;
    case 'status-update':
      return `Status ${n.status}: ${rb}${n.currentStep ? `, now: ${n.currentStep}` : ''}; next update by ${n.nextUpdateAt}`;
    case 'resolved':
      return `Resolved: ${rb} ended ${n.verdict}${n.detail ? `: ${n.detail}` : ''}`;
  }
}
