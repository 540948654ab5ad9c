import { ApplicationFailure, proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { AuditActivities } from '../activities/audit';
import type { createNotificationActivities } from '../activities/notifications';
import { FailureType } from '../contracts/failure-types';

const { verifyAuditTrail: verifyTrail, verifyAuditTrails: verifyTrails } = proxyActivities<Pick<AuditActivities, 'verifyAuditTrail' | 'verifyAuditTrails'>>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '2 seconds', maximumAttempts: 3 },
  summary: 'recompute the audit trail\'s hash chain and check it against its signed head',
});

const { notify } = proxyActivities<ReturnType<typeof createNotificationActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
  summary: 'alert: audit trails fail verification',
});

/** One runbook's audit trail, verified by the worker (`dr audit verify <workflow-id>`). */
export async function verifyAuditTrail(input: { workflowId: string }) {
  if (typeof input?.workflowId !== 'string' || input.workflowId.trim() === '') {
    throw ApplicationFailure.create({ type: FailureType.InvalidInput, nonRetryable: true, message: 'workflowId: required (the runbook whose audit trail to verify)' });
  }
  const verdict = await verifyTrail({ workflowId: input.workflowId });
  setCurrentDetails(`**audit verification** of \`${input.workflowId}\`: ${verdict.ok ? 'verified' : `${verdict.problems.length} problem(s)`}`);
  return verdict;
}

/**
 * Every audit trail, verified (a Temporal Schedule runs it: `dr audit schedule`). Trails that do not verify
 * are told to people (an audit alert through the notifiers), and the run fails, so it shows in the list.
 */
export async function verifyAuditTrails(input: { environment?: string } = {}) {
  const summary = await verifyTrails();
  setCurrentDetails(`**audit verification**: ${summary.checked} trail(s), ${summary.failed.length} failing${summary.warning ? `\n\n${summary.warning}` : ''}`);
  if (summary.failed.length) {
    const failed = summary.failed.map((f) => ({ workflowId: f.workflowId, problems: f.problems.slice(0, 5).map((p) => `seq ${p.seq} ${p.problem}`) }));
    await notify({ kind: 'audit-alert', environment: input.environment ?? 'unknown', failed, checked: summary.checked }).catch(() => undefined);
    throw ApplicationFailure.create({
      type: FailureType.AuditTrailTampered,
      nonRetryable: true,
      message: `${summary.failed.length} of ${summary.checked} audit trail(s) fail verification (${workflowInfo().workflowId}): ${failed.map((f) => `${f.workflowId}: ${f.problems.join(', ')}`).join('; ')}`,
      details: [summary],
    });
  }
  return summary;
}
