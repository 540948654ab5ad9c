import type { NotificationOf } from '../../../contracts/notifications';
import type { IncidentMessage, MessageContext } from './incident-message';
import { stackAlertMessage } from './stack-alert-message';

/**
 * The message for audit trails that fail verification. Not an incident of the application: nobody's
 * data is down, but the record of what was done may have been changed, so it is critical and internal
 * (a status page never shows it).
 */
export function buildAuditAlertMessage(n: NotificationOf<'audit-alert'>, context: MessageContext = {}): IncidentMessage {
  const shown = n.failed.slice(0, 20);
  return stackAlertMessage({
    kind: n.kind,
    context,
    what: 'DR Audit Trail',
    tag: '[CRITICAL]',
    headline: 'Verification Failed',
    intro: `${n.failed.length} of ${n.checked} audit trail(s) in ${n.environment} do not verify: a row was edited, the chain rewritten or its end removed. Treat the record as untrusted until the security team has looked.`,
    fields: [
      { label: 'Status', value: 'Audit trail verification failed' },
      ...shown.map((f) => ({ label: `Workflow ${f.workflowId}`, value: f.problems.join('; '), internal: true })),
      ...(n.failed.length > shown.length ? [{ label: 'More', value: `${n.failed.length - shown.length} more trail(s): run dr audit verify`, internal: true }] : []),
    ],
    closing: 'Run `dr audit verify <workflow id>` for each trail; the trail heads in the object store say what the record held.',
    where: [{ label: 'Environment', value: n.environment, internal: true }],
  });
}
