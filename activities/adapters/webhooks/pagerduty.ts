import { createHash } from 'node:crypto';
import type { ImpactLevel, Notification, NotificationOf, RunbookNotification } from '../../../contracts/notifications';
import { notifierFrom, type Notifier } from '../../ports/notifier';
import type { SecretStore } from '../../ports/secret-store';
import { channelSecret, deliver, type DeliveryDependencies } from './delivery';
import { buildIncidentMessage, impactOf, type IncidentMessage, type MessageContext } from './incident-message';

/**
 * PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/overview/). One alert per
 * runbook, named by a dedup_key derived from the workflow id, so every retry and every later event
 * lands on the same alert: trigger when the incident opens (and again, deduplicated, with the latest
 * summary for approvals, status updates and escalations), acknowledge when a person decides a gate,
 * resolve when the runbook completes. A runbook that ends any other way leaves the alert open with a
 * "manual response needed" summary: the incident is not over. An escalation routed to another
 * PagerDuty service (the audiences map) opens the alert there, which is how the ladder pages people.
 */

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';
export const pagerDutyEventsUrl = 'https://events.pagerduty.com/v2/enqueue';

export interface PagerDutyNotifierOptions {
  name: string;
  /** Name of the secret holding the service's integration (routing) key. */
  routingKeySecret: string;
  /** Default the US service region; https://events.eu.pagerduty.com/v2/enqueue for the EU. */
  eventsUrl?: string;
  /** payload.source, the affected system; default `dr-runbooks/<environment>`. */
  source?: string;
  /** payload.component; default "database". */
  component?: string;
  /** Page for drills too (severity info); default off: a drill is not an incident. */
  drills?: boolean;
  /** Severity per scenario in real mode; default from the scenario's impact. */
  severity?: Record<string, PagerDutySeverity>;
  secrets: SecretStore;
  messages: MessageContext;
  delivery?: DeliveryDependencies;
}

export interface PagerDutyEvent {
  routing_key: string;
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  client?: string;
  client_url?: string;
  links?: Array<{ href: string; text: string }>;
}

const severityOfImpact: Record<ImpactLevel, PagerDutySeverity> = { critical: 'critical', high: 'error', medium: 'warning', low: 'warning' };

/** The alert's key: stable for the run, at most 255 characters as the Events API allows. */
export function pagerDutyDedupKey(workflowId: string): string {
  const key = `dr-runbooks/${workflowId}`;
  return key.length <= 255 ? key : `dr-runbooks/sha256:${createHash('sha256').update(workflowId).digest('hex')}`;
}

type EventOptions = Pick<PagerDutyNotifierOptions, 'source' | 'component' | 'severity'>;

function severityOf(n: RunbookNotification, options: EventOptions): PagerDutySeverity {
  if (n.runbook.mode === 'drill') return 'info';
  // Past the first tier of the ladder, or a runbook that gave up: people must come now.
  if (n.kind === 'escalation' || (n.kind === 'resolved' && n.verdict !== 'completed')) return 'critical';
  return options.severity?.[n.runbook.scenario] ?? severityOfImpact[impactOf(n).level];
}

function customDetails(n: Notification, message: IncidentMessage): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  for (const f of [...message.fields, ...message.context]) details[f.label.toLowerCase().replace(/\s+/g, '_')] = f.value;
  if ('runbook' in n) details.mode = n.runbook.mode;
  details.notification = n.kind;
  if (message.approval) {
    details.approve_command = message.approval.approveCommand;
    details.reject_command = message.approval.rejectCommand;
    details.web_ui_signal = `${message.approval.signalName} ${message.approval.signalInput}`;
  }
  return details;
}

/** The Events API v2 event for a notification: a trigger (or update), an acknowledge or a resolve. */
export function pagerDutyEvent(n: Notification, routingKey: string, message: IncidentMessage, options: EventOptions): PagerDutyEvent {
  if (n.kind === 'audit-alert' || n.kind === 'readiness-alert') {
    const component = n.kind === 'audit-alert' ? 'audit-trail' : 'readiness';
    return stackAlertEvent(n, routingKey, message, options, { key: `${component}/${n.environment}`, where: n.environment, severity: 'critical', component, class: component });
  }
  // Error, not critical: nothing is down, but someone must look before a recovery needs that backup.
  if (n.kind === 'backup-test-failed') return stackAlertEvent(n, routingKey, message, options, { key: `backup-test/${n.environment}/${n.database}`, where: `${n.database}, ${n.environment}`, severity: 'error', component: 'backups', class: 'backup-test' });
  const dedupKey = pagerDutyDedupKey(n.runbook.workflowId);
  if (n.kind === 'gate-decided') return { routing_key: routingKey, event_action: 'acknowledge', dedup_key: dedupKey };
  if (n.kind === 'resolved' && n.verdict === 'completed') return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  const where = `${n.runbook.scenario}, ${n.runbook.incidentId}, ${n.runbook.environment}`;
  const summary = `${message.subject} (${where})`;
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: summary.length <= 1024 ? summary : `${summary.slice(0, 1023)}…`,
      source: options.source ?? `dr-runbooks/${n.runbook.environment}`,
      severity: severityOf(n, options),
      component: options.component ?? 'database',
      group: n.runbook.environment,
      class: n.runbook.scenario,
      custom_details: customDetails(n, message),
    },
    client: 'dr-runbooks',
    ...(message.link ? { client_url: message.link, links: [{ href: message.link, text: 'The run in the Temporal Web UI' }] } : {}),
  };
}

export function createPagerDutyNotifier(options: PagerDutyNotifierOptions): Notifier {
  const label = `pagerduty "${options.name}"`;
  return notifierFrom(async (n) => {
    if ('runbook' in n && n.runbook.mode === 'drill' && !options.drills) return;
    const routingKey = await channelSecret(label, options.secrets, options.routingKeySecret, 'routing key');
    const event = pagerDutyEvent(n, routingKey, buildIncidentMessage(n, options.messages), options);
    await deliver(
      { label, secrets: [routingKey] },
      { method: 'POST', url: options.eventsUrl ?? pagerDutyEventsUrl, headers: () => ({ 'content-type': 'application/json' }), body: JSON.stringify(event) },
      options.delivery,
    );
  });
}

/**
 * An alert about the stack, not one run: one open alert per thing alerted on (an environment's trails or
 * readiness, a database's backups), so a later failure updates it rather than paging again.
 */
function stackAlertEvent(n: NotificationOf<'audit-alert' | 'readiness-alert' | 'backup-test-failed'>, routingKey: string, message: IncidentMessage, options: EventOptions, alert: { key: string; where: string; severity: PagerDutySeverity; component: string; class: string }): PagerDutyEvent {
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: pagerDutyDedupKey(alert.key),
    payload: {
      summary: `${message.subject} (${alert.where})`.slice(0, 1024),
      source: options.source ?? `dr-runbooks/${n.environment}`,
      severity: alert.severity,
      component: alert.component,
      group: n.environment,
      class: alert.class,
      custom_details: customDetails(n, message),
    },
    client: 'dr-runbooks',
    ...(message.link ? { client_url: message.link, links: [{ href: message.link, text: 'The run in the Temporal Web UI' }] } : {}),
  };
}
