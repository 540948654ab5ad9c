import type { NotificationOf } from '../../../contracts/notifications';
import type { IncidentMessage, MessageContext, MessageField } from './incident-message';

/**
 * The message for audit trails that fail verification. Not an incident of the application: nobody's
 * data is down, but the record of what was done may have been changed, so it is critical and internal
 * (a status page never shows it).
 */
export function buildAuditAlertMessage(n: NotificationOf<'audit-alert'>, context: MessageContext = {}): IncidentMessage {
  const app = context.application?.trim();
  const title = `${app ? `${app} ` : ''}DR Audit Trail`;
  const tag = '[CRITICAL]';
  const subject = `${tag} ${title} - Verification Failed`;
  const intro = `${n.failed.length} of ${n.checked} audit trail(s) in ${n.environment} do not verify: a row was edited, the chain rewritten or its end removed. Treat the record as untrusted until the security team has looked.`;
  const shown = n.failed.slice(0, 20);
  const fields: MessageField[] = [
    { label: 'Status', value: 'Audit trail verification failed' },
    ...shown.map((f) => ({ label: `Workflow ${f.workflowId}`, value: f.problems.join('; '), internal: true })),
    ...(n.failed.length > shown.length ? [{ label: 'More', value: `${n.failed.length - shown.length} more trail(s): run dr audit verify`, internal: true }] : []),
  ];
  const closing = 'Run `dr audit verify <workflow id>` for each trail; the trail heads in the object store say what the record held.';
  const contextFields: MessageField[] = [{ label: 'Environment', value: n.environment, internal: true }];
  const line = (f: MessageField) => `${f.label}: ${f.value}`;
  const text = [`Subject: ${subject}`, '', intro, '', ...fields.map(line), '', closing, '', contextFields.map(line).join(' · ')].join('\n');
  return { kind: n.kind, drill: false, tag, title, subject, intro, fields, closing, context: contextFields, text, publicText: '' };
}
