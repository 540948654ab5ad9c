import type { NotificationOf } from '../../../contracts/notifications';
import type { IncidentMessage, MessageContext } from './incident-message';
import { stackAlertMessage } from './stack-alert-message';

/**
 * The message for a stack that is not ready for a recovery. Nothing is down yet: it is what would make
 * the next recovery fail or miss its objectives (an old backup, a stalled WAL archive, a secret that does
 * not resolve), so it pages the people who fix it, internally (a status page never shows it).
 */
export function buildReadinessAlertMessage(n: NotificationOf<'readiness-alert'>, context: MessageContext = {}): IncidentMessage {
  return stackAlertMessage({
    kind: n.kind,
    context,
    what: 'DR Readiness',
    tag: '[CRITICAL]',
    headline: 'Not Ready For A Recovery',
    intro: `The readiness check of ${n.environment} fails ${n.failing.length} line(s): a recovery started now might not complete or meet its objectives.`,
    fields: [
      { label: 'Status', value: 'Readiness check failing' },
      ...n.failing.map((f) => ({ label: `${f.check} (${f.subject})`, value: f.detail, internal: true })),
    ],
    closing: `Run \`dr readiness\` to check again; the whole report is ${n.reportKey} in the object store.`,
    where: [{ label: 'Environment', value: n.environment, internal: true }],
  });
}
