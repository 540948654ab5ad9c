import type { NotificationOf } from '../../../contracts/notifications';
import type { IncidentMessage, MessageContext, MessageField } from './incident-message';

/**
 * The message for a stack that is not ready for a recovery. Nothing is down yet: it is what would make
 * the next recovery fail or miss its objectives (an old backup, a stalled WAL archive, a secret that does
 * not resolve), so it pages the people who fix it, internally (a status page never shows it).
 */
export function buildReadinessAlertMessage(n: NotificationOf<'readiness-alert'>, context: MessageContext = {}): IncidentMessage {
  const app = context.application?.trim();
  const title = `${app ? `${app} ` : ''}DR Readiness`;
  const tag = '[CRITICAL]';
  const subject = `${tag} ${title} - Not Ready For A Recovery`;
  const intro = `The readiness check of ${n.environment} fails ${n.failing.length} line(s): a recovery started now might not complete or meet its objectives.`;
  const fields: MessageField[] = [
    { label: 'Status', value: 'Readiness check failing' },
    ...n.failing.map((f) => ({ label: `${f.check} (${f.subject})`, value: f.detail, internal: true })),
  ];
  const closing = `Run \`dr readiness\` to check again; the whole report is ${n.reportKey} in the object store.`;
  const contextFields: MessageField[] = [{ label: 'Environment', value: n.environment, internal: true }];
  const line = (f: MessageField) => `${f.label}: ${f.value}`;
  const text = [`Subject: ${subject}`, '', intro, '', ...fields.map(line), '', closing, '', contextFields.map(line).join(' · ')].join('\n');
  return { kind: n.kind, drill: false, tag, title, subject, intro, fields, closing, context: contextFields, text, publicText: '' };
}
