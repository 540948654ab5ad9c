import type { ImpactLevel, Notification, RunbookNotification } from '../../../contracts/notifications';
import { notifierFrom, type Notifier } from '../../ports/notifier';
import type { SecretStore } from '../../ports/secret-store';
import { channelSecret, deliver, deliveryDeadline, NotificationDeliveryError, type DeliveryDependencies } from './delivery';
import { buildIncidentMessage, impactOf, type IncidentMessage, type MessageContext } from './incident-message';

/**
 * Atlassian Statuspage (https://developer.statuspage.io/): the public face of a customer-facing
 * incident. Creates the incident when the runbook opens one, posts each status update to it, resolves
 * it when the runbook completes. Only real runs of the scenarios config calls customer-facing reach it:
 * never a drill, never an approval or an escalation (those are for the people fixing it).
 *
 * Which Statuspage incident belongs to which run is kept on the incident itself, in its metadata
 * (`dr_runbooks.workflow_id`), and found again through the page's unresolved incidents. Not a state
 * file: several workers serve one task queue and any of them may send the next update, and a worker
 * restarted on another machine (a new pod) has no file; Statuspage is the one place they all see. A
 * create whose answer was lost is found the same way, so a retry updates instead of opening a second
 * incident.
 */

export const statuspageApiUrl = 'https://api.statuspage.io';

export interface StatuspageNotifierOptions {
  name: string;
  pageId: string;
  /** Name of the secret holding the API key (sent as `Authorization: OAuth <key>`). */
  apiKeySecret: string;
  /** Default https://api.statuspage.io. */
  apiUrl?: string;
  /** The scenarios whose incidents customers see (config). */
  customerFacingScenarios: string[];
  /** Ids of the page's components the incident affects. */
  components?: string[];
  /** Email and SMS subscribers of the page; default true. */
  deliverNotifications?: boolean;
  secrets: SecretStore;
  messages: MessageContext;
  delivery?: DeliveryDependencies;
}

type IncidentStatus = 'investigating' | 'identified' | 'monitoring' | 'resolved';
type ComponentStatus = 'operational' | 'degraded_performance' | 'partial_outage' | 'major_outage';

export interface StatuspageIncidentBody {
  incident: {
    name?: string;
    status: IncidentStatus;
    body: string;
    impact_override?: 'none' | 'minor' | 'major' | 'critical';
    component_ids?: string[];
    components?: Record<string, ComponentStatus>;
    deliver_notifications?: boolean;
    metadata?: { dr_runbooks: { workflow_id: string; incident_id: string; scenario: string } };
  };
}

const impactOverride = { critical: 'critical', high: 'major', medium: 'minor', low: 'minor' } as const satisfies Record<ImpactLevel, string>;
const outage = { critical: 'major_outage', high: 'partial_outage', medium: 'degraded_performance', low: 'degraded_performance' } as const satisfies Record<ImpactLevel, ComponentStatus>;

/** Whether a notification belongs on the public page at all. */
export function isForStatusPage(n: Notification, customerFacingScenarios: string[]): n is RunbookNotification {
  if (n.kind === 'audit-alert') return false;
  if (n.runbook.mode === 'drill' || !customerFacingScenarios.includes(n.runbook.scenario)) return false;
  return n.kind === 'incident-opened' || n.kind === 'status-update' || n.kind === 'resolved';
}

/** The incident fields for a notification; `create` adds what only a new incident takes. */
export function statuspageIncident(n: RunbookNotification, message: IncidentMessage, options: Pick<StatuspageNotifierOptions, 'components' | 'deliverNotifications'>, create: boolean): StatuspageIncidentBody {
  const impact = impactOf(n).level;
  const resolved = n.kind === 'resolved' && n.verdict === 'completed';
  const status: IncidentStatus = n.kind === 'status-update' ? n.status : n.kind === 'resolved' ? (resolved ? 'resolved' : 'identified') : 'investigating';
  const componentIds = options.components ?? [];
  const incident: StatuspageIncidentBody['incident'] = { status, body: message.publicText };
  if (!resolved) incident.impact_override = impactOverride[impact];
  if (componentIds.length) incident.components = Object.fromEntries(componentIds.map((id) => [id, resolved ? 'operational' : outage[impact]]));
  if (create) {
    incident.name = message.title;
    if (componentIds.length) incident.component_ids = componentIds;
    incident.deliver_notifications = options.deliverNotifications ?? true;
    incident.metadata = { dr_runbooks: { workflow_id: n.runbook.workflowId, incident_id: n.runbook.incidentId, scenario: n.runbook.scenario } };
  } else if (options.deliverNotifications === false) {
    incident.deliver_notifications = false;
  }
  return { incident };
}

interface ListedIncident {
  id?: unknown;
  metadata?: { dr_runbooks?: { workflow_id?: unknown } };
}

export function createStatuspageNotifier(options: StatuspageNotifierOptions): Notifier {
  const label = `statuspage "${options.name}" (page ${options.pageId})`;
  const incidents = `${(options.apiUrl ?? statuspageApiUrl).replace(/\/+$/, '')}/v1/pages/${encodeURIComponent(options.pageId)}/incidents`;
  /** Workflow id → Statuspage incident id: saves a lookup; the page is the truth. */
  const known = new Map<string, string>();

  const call = async (apiKey: string, deadlineAt: number, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) => {
    const response = await deliver(
      { label, secrets: [apiKey] },
      { method, url, headers: () => ({ authorization: `OAuth ${apiKey}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }), ...(body !== undefined ? { body: JSON.stringify(body) } : {}) },
      options.delivery,
      deadlineAt,
    );
    try {
      return JSON.parse(response.body) as unknown;
    } catch {
      throw new NotificationDeliveryError(label, `${label}: ${method} answered ${response.status} without JSON`, response.status, false);
    }
  };

  async function openIncidentOf(apiKey: string, deadlineAt: number, workflowId: string): Promise<string | undefined> {
    const cached = known.get(workflowId);
    if (cached) return cached;
    const perPage = 100;
    for (let page = 1; page <= 10; page++) {
      const listed = await call(apiKey, deadlineAt, 'GET', `${incidents}/unresolved?page=${page}&per_page=${perPage}`);
      if (!Array.isArray(listed)) throw new NotificationDeliveryError(label, `${label}: the unresolved incidents are not a list`, undefined, false);
      const match = (listed as ListedIncident[]).find((i) => i.metadata?.dr_runbooks?.workflow_id === workflowId && typeof i.id === 'string');
      if (match) {
        known.set(workflowId, match.id as string);
        return match.id as string;
      }
      if (listed.length < perPage) return undefined;
    }
    return undefined;
  }

  return notifierFrom(async (n) => {
    if (!isForStatusPage(n, options.customerFacingScenarios)) return;
    const apiKey = await channelSecret(label, options.secrets, options.apiKeySecret, 'API key');
    // The lookup and the write share one budget: together they stay inside the notify activity's timeout.
    const deadlineAt = deliveryDeadline(options.delivery);
    const message = buildIncidentMessage(n, options.messages);
    const workflowId = n.runbook.workflowId;
    const existing = await openIncidentOf(apiKey, deadlineAt, workflowId);
    const completed = n.kind === 'resolved' && n.verdict === 'completed';
    if (existing) {
      // A repeated "opened" (a retry whose first answer was lost) finds the incident it created: nothing to add.
      if (n.kind === 'incident-opened') return;
      await call(apiKey, deadlineAt, 'PATCH', `${incidents}/${encodeURIComponent(existing)}`, statuspageIncident(n, message, options, false));
      if (completed) known.delete(workflowId);
      return;
    }
    // Nothing open to resolve: customers were never told of it (or it is resolved already), so say nothing now.
    if (completed) return;
    const created = (await call(apiKey, deadlineAt, 'POST', incidents, statuspageIncident(n, message, options, true))) as { id?: unknown };
    if (typeof created.id === 'string') known.set(workflowId, created.id);
  });
}
