/**
 * The documented request shapes of the services our notifiers (and Alertmanager) talk to, as checks:
 * each returns the problems it finds, worded so a failing test says what to fix. They follow the
 * services' own documentation, cited per check; where a service accepts something a person at 3 a.m.
 * would miss, that is a warning, not a problem.
 */

type Json = Record<string, unknown>;
export interface ShapeReport { problems: string[]; warnings: string[] }

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function unknownKeys(value: Json, allowed: readonly string[], where: string, hints: Record<string, string> = {}): string[] {
  return Object.keys(value).filter((k) => !allowed.includes(k)).map((k) => `${where}.${k} is not a documented field${hints[k] ? ` (${hints[k]})` : ''}`);
}

function stringMap(value: unknown, where: string): string[] {
  if (!isObject(value)) return [`${where} must be an object of strings`];
  return Object.entries(value).filter(([, v]) => typeof v !== 'string').map(([k]) => `${where}.${k} must be a string`);
}

// ---------------------------------------------------------------------------------------------------
// Slack incoming webhooks: POST JSON with `text` and/or `blocks` (Block Kit); Slack answers 200 "ok",
// or 400 with a short error string such as invalid_payload, no_text or invalid_blocks
// (https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks,
//  https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks).
// Block limits from the Block Kit reference (https://docs.slack.dev/reference/block-kit/blocks):
// at most 50 blocks; header text plain_text ≤ 150; section text ≤ 3000, fields ≤ 10 of ≤ 2000;
// context ≤ 10 elements; actions ≤ 25 elements; button text plain_text ≤ 75; block_id ≤ 255.

export interface SlackReport extends ShapeReport {
  /** The error string Slack answers with when `problems` is not empty. */
  slackError?: 'invalid_payload' | 'no_text' | 'invalid_blocks';
}

const slackTopLevel = ['text', 'blocks', 'attachments', 'thread_ts', 'mrkdwn', 'unfurl_links', 'unfurl_media', 'username', 'icon_emoji', 'icon_url', 'channel'] as const;
const blockTypes = ['section', 'header', 'divider', 'context', 'actions', 'image', 'rich_text', 'markdown', 'input', 'file', 'video'] as const;

function textObject(value: unknown, where: string, max: number, plainOnly = false): string[] {
  if (!isObject(value)) return [`${where} must be a text object {type, text}`];
  const problems: string[] = [];
  if (value.type !== 'plain_text' && value.type !== 'mrkdwn') problems.push(`${where}.type must be plain_text or mrkdwn, not ${JSON.stringify(value.type)}`);
  else if (plainOnly && value.type !== 'plain_text') problems.push(`${where}.type must be plain_text here`);
  if (!isNonEmptyString(value.text)) problems.push(`${where}.text must be a non-empty string`);
  else if (value.text.length > max) problems.push(`${where}.text is ${value.text.length} characters; at most ${max}`);
  return problems;
}

function slackBlock(block: unknown, where: string, warnings: string[]): string[] {
  if (!isObject(block)) return [`${where} must be an object`];
  const type = block.type;
  if (typeof type !== 'string' || !(blockTypes as readonly string[]).includes(type)) return [`${where}.type ${JSON.stringify(type)} is not a Block Kit block type`];
  const problems: string[] = [];
  if (block.block_id !== undefined && (typeof block.block_id !== 'string' || block.block_id.length > 255)) problems.push(`${where}.block_id must be a string of at most 255 characters`);
  switch (type) {
    case 'header':
      problems.push(...textObject(block.text, `${where}.text`, 150, true));
      break;
    case 'section':
      if (block.text === undefined && block.fields === undefined) problems.push(`${where} needs text or fields`);
      if (block.text !== undefined) problems.push(...textObject(block.text, `${where}.text`, 3000));
      if (block.fields !== undefined) {
        if (!Array.isArray(block.fields) || block.fields.length === 0 || block.fields.length > 10) problems.push(`${where}.fields must be 1 to 10 text objects`);
        else block.fields.forEach((f, i) => problems.push(...textObject(f, `${where}.fields[${i}]`, 2000)));
      }
      break;
    case 'context':
      if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 10) problems.push(`${where}.elements must be 1 to 10 text or image elements`);
      else block.elements.forEach((e, i) => {
        if (isObject(e) && e.type === 'image') {
          if (!isNonEmptyString(e.image_url) || !isNonEmptyString(e.alt_text)) problems.push(`${where}.elements[${i}]: an image needs image_url and alt_text`);
        } else problems.push(...textObject(e, `${where}.elements[${i}]`, 3000));
      });
      break;
    case 'actions':
      if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 25) problems.push(`${where}.elements must be 1 to 25 interactive elements`);
      else block.elements.forEach((e, i) => {
        const at = `${where}.elements[${i}]`;
        if (!isObject(e) || typeof e.type !== 'string') { problems.push(`${at} must be an element with a type`); return; }
        if (e.type !== 'button') return;
        problems.push(...textObject(e.text, `${at}.text`, 75, true));
        if (e.url !== undefined && (!isNonEmptyString(e.url) || e.url.length > 3000)) problems.push(`${at}.url must be a URL of at most 3000 characters`);
        if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') problems.push(`${at}.style must be primary or danger`);
        if (e.action_id !== undefined && (typeof e.action_id !== 'string' || e.action_id.length > 255)) problems.push(`${at}.action_id must be at most 255 characters`);
        if (e.url === undefined) warnings.push(`${at}: a button without url only works in an interactive Slack app; nothing receives its click through an incoming webhook`);
      });
      break;
    case 'image':
      if (!isNonEmptyString(block.image_url) || !isNonEmptyString(block.alt_text)) problems.push(`${where}: an image block needs image_url and alt_text`);
      break;
    default:
      break;
  }
  return problems;
}

export function checkSlackMessage(body: unknown): SlackReport {
  const warnings: string[] = [];
  if (!isObject(body)) return { problems: ['the body must be a JSON object'], warnings, slackError: 'invalid_payload' };
  const problems = unknownKeys(body, slackTopLevel, 'message');
  if (body.text !== undefined && typeof body.text !== 'string') problems.push('message.text must be a string');
  const hasText = isNonEmptyString(body.text);
  if (!hasText && body.blocks === undefined && body.attachments === undefined) return { problems: ['message needs text or blocks'], warnings, slackError: 'no_text' };
  if (typeof body.text === 'string' && body.text.length > 40_000) warnings.push(`message.text is ${body.text.length} characters; Slack truncates it at 40,000`);
  if (body.blocks !== undefined) {
    if (!Array.isArray(body.blocks) || body.blocks.length === 0 || body.blocks.length > 50) {
      problems.push('message.blocks must be an array of 1 to 50 blocks');
    } else {
      const ids = new Set<string>();
      body.blocks.forEach((block, i) => {
        problems.push(...slackBlock(block, `blocks[${i}]`, warnings));
        const id = isObject(block) ? block.block_id : undefined;
        if (typeof id === 'string') {
          if (ids.has(id)) problems.push(`blocks[${i}].block_id "${id}" is used twice; block ids are unique within a message`);
          ids.add(id);
        }
      });
      if (!hasText) warnings.push('blocks without a top-level text: notifications and screen readers get no text');
    }
    if (problems.length) return { problems, warnings, slackError: 'invalid_blocks' };
  }
  return problems.length ? { problems, warnings, slackError: 'invalid_payload' } : { problems, warnings };
}

// ---------------------------------------------------------------------------------------------------
// PagerDuty Events API v2: POST /v2/enqueue with routing_key (32 characters), event_action
// trigger|acknowledge|resolve, dedup_key (≤ 255; required to acknowledge or resolve), and for a
// trigger a payload {summary ≤ 1024, source, severity critical|error|warning|info, timestamp?,
// component?, group?, class?, custom_details?}; answers 202 {status: "success", message: "Event
// processed", dedup_key}, or 400 {status: "invalid event", message: "Event object is invalid", errors}
// (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/,
//  https://developer.pagerduty.com/docs/events-api-v2/acknowledge-events/,
//  https://developer.pagerduty.com/docs/events-api-v2/resolve-events/).

export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';
export const pagerDutySeverities = ['critical', 'error', 'warning', 'info'] as const;

export function checkPagerDutyEvent(body: unknown, expectedRoutingKey?: string): ShapeReport {
  const warnings: string[] = [];
  if (!isObject(body)) return { problems: ['the body must be a JSON object'], warnings };
  const problems = unknownKeys(body, ['routing_key', 'event_action', 'dedup_key', 'payload', 'images', 'links', 'client', 'client_url'], 'event', { incident_key: 'Events API v1; v2 calls it dedup_key', service_key: 'Events API v1; v2 calls it routing_key' });
  if (typeof body.routing_key !== 'string' || body.routing_key.length !== 32) problems.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  else if (expectedRoutingKey !== undefined && body.routing_key !== expectedRoutingKey) problems.push('routing_key is not the integration key of this service');
  const action = body.event_action;
  if (action !== 'trigger' && action !== 'acknowledge' && action !== 'resolve') problems.push(`event_action must be trigger, acknowledge or resolve, not ${JSON.stringify(action)}`);
  if (body.dedup_key !== undefined && (typeof body.dedup_key !== 'string' || body.dedup_key.length === 0 || body.dedup_key.length > 255)) problems.push('dedup_key must be a string of 1 to 255 characters');
  if ((action === 'acknowledge' || action === 'resolve') && body.dedup_key === undefined) problems.push(`dedup_key is required to ${action}: it names the alert the trigger opened`);
  if (action === 'trigger') {
    const payload = body.payload;
    if (!isObject(payload)) {
      problems.push('payload is required for a trigger');
    } else {
      problems.push(...unknownKeys(payload, ['summary', 'source', 'severity', 'timestamp', 'component', 'group', 'class', 'custom_details'], 'payload'));
      if (!isNonEmptyString(payload.summary)) problems.push('payload.summary must be a non-empty string');
      else if (payload.summary.length > 1024) problems.push(`payload.summary is ${payload.summary.length} characters; at most 1024`);
      if (!isNonEmptyString(payload.source)) problems.push('payload.source must be a non-empty string (the affected system)');
      if (!(pagerDutySeverities as readonly unknown[]).includes(payload.severity)) problems.push(`payload.severity must be one of ${pagerDutySeverities.join(', ')}, not ${JSON.stringify(payload.severity)}`);
      if (payload.timestamp !== undefined && (typeof payload.timestamp !== 'string' || Number.isNaN(Date.parse(payload.timestamp)))) problems.push('payload.timestamp must be an ISO 8601 time');
      for (const key of ['component', 'group', 'class'] as const) if (payload[key] !== undefined && typeof payload[key] !== 'string') problems.push(`payload.${key} must be a string`);
      if (payload.custom_details !== undefined && !isObject(payload.custom_details)) problems.push('payload.custom_details must be an object');
    }
    if (body.dedup_key === undefined) warnings.push('a trigger without dedup_key gets a random one: a later acknowledge or resolve cannot name it');
  }
  if (body.links !== undefined && (!Array.isArray(body.links) || body.links.some((l) => !isObject(l) || !isNonEmptyString(l.href)))) problems.push('links must be an array of {href, text?}');
  if (body.images !== undefined && (!Array.isArray(body.images) || body.images.some((l) => !isObject(l) || !isNonEmptyString(l.src)))) problems.push('images must be an array of {src, href?, alt?}');
  return { problems, warnings };
}

// ---------------------------------------------------------------------------------------------------
// Atlassian Statuspage: POST /v1/pages/{page_id}/incidents to create, PATCH (or PUT)
// /v1/pages/{page_id}/incidents/{incident_id} to update, `Authorization: OAuth <api key>`, body
// {incident: {name, status, body, impact_override, component_ids, components, deliver_notifications,
// metadata (top-level values objects), …}}
// (https://developer.statuspage.io/#operation/postPagesPageIdIncidents,
//  https://developer.statuspage.io/#operation/patchPagesPageIdIncidentsIncidentId,
//  https://developer.statuspage.io/#section/Authentication).

export const statuspageIncidentStatuses = ['investigating', 'identified', 'monitoring', 'resolved', 'scheduled', 'in_progress', 'verifying', 'completed'] as const;
export const statuspageImpacts = ['none', 'minor', 'major', 'critical'] as const;
export const statuspageComponentStatuses = ['operational', 'under_maintenance', 'degraded_performance', 'partial_outage', 'major_outage'] as const;
const statuspageIncidentFields = [
  'name', 'status', 'body', 'impact_override', 'component_ids', 'components', 'deliver_notifications', 'metadata',
  'scheduled_for', 'scheduled_until', 'scheduled_remind_prior', 'scheduled_auto_in_progress', 'scheduled_auto_completed',
  'auto_transition_to_maintenance_state', 'auto_transition_to_operational_state', 'auto_transition_deliver_notifications_at_start',
  'auto_transition_deliver_notifications_at_end', 'backfilled', 'backfill_date', 'reminder_intervals',
] as const;

export function checkStatuspageIncident(body: unknown, mode: 'create' | 'update'): ShapeReport {
  const warnings: string[] = [];
  if (!isObject(body) || !isObject(body.incident)) return { problems: ['the body must be {"incident": {...}}'], warnings };
  const problems = unknownKeys(body, ['incident'], 'body');
  const incident = body.incident;
  problems.push(...unknownKeys(incident, statuspageIncidentFields, 'incident', { message: 'the incident update text is incident.body' }));
  if (mode === 'create' && !isNonEmptyString(incident.name)) problems.push('incident.name is required to create an incident');
  if (incident.name !== undefined && !isNonEmptyString(incident.name)) problems.push('incident.name must be a non-empty string');
  if (incident.status !== undefined && !(statuspageIncidentStatuses as readonly unknown[]).includes(incident.status)) problems.push(`incident.status must be one of ${statuspageIncidentStatuses.join(', ')}, not ${JSON.stringify(incident.status)}`);
  if (mode === 'create' && incident.status === undefined) warnings.push('incident.status missing: Statuspage opens it as investigating');
  if (incident.body !== undefined && typeof incident.body !== 'string') problems.push('incident.body must be a string');
  if (incident.impact_override !== undefined && !(statuspageImpacts as readonly unknown[]).includes(incident.impact_override)) problems.push(`incident.impact_override must be one of ${statuspageImpacts.join(', ')}`);
  if (incident.component_ids !== undefined && (!Array.isArray(incident.component_ids) || incident.component_ids.some((c) => !isNonEmptyString(c)))) problems.push('incident.component_ids must be an array of component ids');
  if (incident.components !== undefined) {
    if (!isObject(incident.components)) problems.push('incident.components must map component ids to statuses');
    else for (const [id, status] of Object.entries(incident.components)) {
      if (!(statuspageComponentStatuses as readonly unknown[]).includes(status)) problems.push(`incident.components.${id} must be one of ${statuspageComponentStatuses.join(', ')}`);
    }
  }
  if (incident.deliver_notifications !== undefined && typeof incident.deliver_notifications !== 'boolean') problems.push('incident.deliver_notifications must be true or false');
  if (incident.metadata !== undefined) {
    if (!isObject(incident.metadata)) problems.push('incident.metadata must be an object');
    else for (const [key, value] of Object.entries(incident.metadata)) if (!isObject(value)) problems.push(`incident.metadata.${key} must be an object: Statuspage wants every top-level metadata value to be an object`);
  }
  return { problems, warnings };
}

// ---------------------------------------------------------------------------------------------------
// Alertmanager's webhook receiver format, version "4"
// (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).

const alertStatuses = ['firing', 'resolved'];

export function checkAlertmanagerNotification(body: unknown): ShapeReport {
  const warnings: string[] = [];
  if (!isObject(body)) return { problems: ['the body must be a JSON object'], warnings };
  const problems: string[] = [];
  if (body.version !== '4') problems.push(`version must be "4", not ${JSON.stringify(body.version)}`);
  if (!isNonEmptyString(body.groupKey)) problems.push('groupKey must be a non-empty string');
  if (!Number.isInteger(body.truncatedAlerts) || (body.truncatedAlerts as number) < 0) problems.push('truncatedAlerts must be a count');
  if (!alertStatuses.includes(body.status as string)) problems.push('status must be firing or resolved');
  if (!isNonEmptyString(body.receiver)) problems.push('receiver must be a non-empty string');
  if (!isNonEmptyString(body.externalURL)) problems.push('externalURL must be a URL');
  for (const key of ['groupLabels', 'commonLabels', 'commonAnnotations'] as const) problems.push(...stringMap(body[key], key));
  if (!Array.isArray(body.alerts) || body.alerts.length === 0) {
    problems.push('alerts must be a non-empty array');
  } else {
    body.alerts.forEach((alert, i) => {
      const at = `alerts[${i}]`;
      if (!isObject(alert)) { problems.push(`${at} must be an object`); return; }
      if (!alertStatuses.includes(alert.status as string)) problems.push(`${at}.status must be firing or resolved`);
      problems.push(...stringMap(alert.labels, `${at}.labels`), ...stringMap(alert.annotations, `${at}.annotations`));
      if (isObject(alert.labels) && !isNonEmptyString(alert.labels.alertname)) problems.push(`${at}.labels.alertname is missing`);
      for (const key of ['startsAt', 'endsAt'] as const) if (typeof alert[key] !== 'string' || !rfc3339.test(alert[key] as string)) problems.push(`${at}.${key} must be an RFC 3339 time`);
      if (typeof alert.generatorURL !== 'string') problems.push(`${at}.generatorURL must be a string`);
      if (!isNonEmptyString(alert.fingerprint)) problems.push(`${at}.fingerprint must be a non-empty string`);
    });
  }
  return { problems, warnings };
}
