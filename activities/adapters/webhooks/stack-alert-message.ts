import type { NotificationKind } from '../../../contracts/notifications';
import type { IncidentMessage, MessageContext, MessageField } from './incident-message';

/** The run in the Temporal Web UI, when its URL is configured. */
export function webUiLinkOf(workflowId: string, context: MessageContext): string | undefined {
  if (!context.webUiUrl) return undefined;
  return `${context.webUiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(context.namespace ?? 'default')}/workflows/${encodeURIComponent(workflowId)}`;
}

/**
 * A message about the DR stack rather than one run (an audit trail that does not verify, readiness
 * failing, a backup that failed its restore test): internal only, never a drill, nothing for a status page.
 */
export function stackAlertMessage(parts: {
  kind: NotificationKind;
  context: MessageContext;
  /** "DR Audit Trail": the application's name goes before it. */
  what: string;
  tag: string;
  headline: string;
  intro: string;
  fields: MessageField[];
  closing: string;
  where: MessageField[];
  link?: string;
}): IncidentMessage {
  const app = parts.context.application?.trim();
  const title = `${app ? `${app} ` : ''}${parts.what}`;
  const subject = `${parts.tag} ${title} - ${parts.headline}`;
  const line = (f: MessageField) => `${f.label}: ${f.value}`;
  const text = [`Subject: ${subject}`, '', parts.intro, '', ...parts.fields.map(line), '', parts.closing, '', parts.where.map(line).join(' · '), ...(parts.link ? ['', parts.link] : [])].join('\n');
  return { kind: parts.kind, drill: false, tag: parts.tag, title, subject, intro: parts.intro, fields: parts.fields, closing: parts.closing, context: parts.where, ...(parts.link ? { link: parts.link } : {}), text, publicText: '' };
}
