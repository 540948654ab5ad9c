import { randomBytes } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { deliveryHeader, eventHeader, signatureHeader, verifyWebhookSignature } from '../../lib/webhook-signature';
import { checkAlertmanagerNotification, checkPagerDutyEvent, checkSlackMessage, checkStatuspageIncident, type PagerDutyAction } from './webhook-shapes';

/**
 * One local HTTP server standing in for the notification services that have no server to run here
 * (Slack, PagerDuty, Statuspage, a signed generic webhook) and for an Alertmanager webhook receiver.
 * It answers the way each service documents, checks every request's shape (webhook-shapes.ts),
 * headers and signature, records everything, and can be told to fail or to be down, for retry tests.
 *
 *   Slack incoming webhook    POST  /slack/<any path>                    → 200 "ok"
 *   PagerDuty Events API v2   POST  /v2/enqueue                          → 202 {status, message, dedup_key}
 *   Statuspage                POST  /v1/pages/<page>/incidents           → 201 incident
 *                             PATCH /v1/pages/<page>/incidents/<id>      → 200 incident (PUT too)
 *                             GET   /v1/pages/<page>/incidents/unresolved → 200 [incident] (page, per_page)
 *   signed webhook            POST  /webhook[/<any path>]                → 200 {ok: true}
 *   Alertmanager webhook      POST  /alertmanager[/<any path>]           → 200
 *
 * A request of the wrong shape is refused as the service would refuse it, and the reasons are in the
 * record's `problems` (and the `x-receiver-problems` response header).
 */

export type ReceiverTarget = 'slack' | 'pagerduty' | 'statuspage' | 'webhook' | 'alertmanager';

export interface ReceivedRequest {
  target: ReceiverTarget | 'unknown';
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as received. */
  body: string;
  /** The body parsed, when it is JSON. */
  json?: unknown;
  receivedAt: Date;
  /** Why the service would refuse it; empty when the request has the documented shape. */
  problems: string[];
  /** What the service accepts but a reader would miss. */
  warnings: string[];
  /** What the receiver answered. */
  status: number;
  /** Set when the answer was a failure the test asked for, not the request's fault. */
  injectedFailure?: boolean;
  /** Signed webhook: its X-DR-Delivery id, and whether that id was already delivered. */
  deliveryId?: string;
  duplicateDelivery?: boolean;
}

export interface StatuspageIncident {
  id: string;
  pageId: string;
  name: string;
  status: string;
  impact: string;
  /** Every body text posted, oldest first: Statuspage's incident updates. */
  updates: Array<{ status: string; body?: string }>;
  components: Record<string, string>;
  /** The incident's metadata, when one was attached. */
  metadata?: Record<string, unknown>;
}

export interface PagerDutyAlert {
  dedupKey: string;
  /** The last action received for it. */
  state: PagerDutyAction;
  actions: PagerDutyAction[];
  summary?: string;
  severity?: string;
}

export interface InjectedFailure {
  /** Default 503. */
  status?: number;
  /** Sent as Retry-After (seconds), as rate limits (429) do. */
  retryAfterSeconds?: number;
  body?: string;
}

export interface WebhookReceiverOptions {
  /** Default: a free port. */
  port?: number;
  /** The generic webhook's shared secret (HMAC-SHA256). */
  signingSecret?: string;
  signatureToleranceSeconds?: number;
  /** When set, the only PagerDuty routing key accepted. */
  pagerdutyRoutingKey?: string;
  /** When set, the only Statuspage API key accepted; otherwise any non-empty `OAuth <key>`. */
  statuspageApiKey?: string;
  /** When set, the only Statuspage page id served. */
  statuspagePageId?: string;
  /** The receiver's clock in ms (signature timestamps are checked against it). */
  now?: () => number;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  /** A URL per target, ready to put into a notifier's config. */
  urls: { slack: string; pagerduty: string; statuspage: string; webhook: string; alertmanager: string };
  signingSecret: string;
  /** Every request, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** Requests of a target that were accepted (2xx, not an injected failure). */
  accepted(target: ReceiverTarget): ReceivedRequest[];
  statuspageIncidents: Map<string, StatuspageIncident>;
  pagerdutyAlerts: Map<string, PagerDutyAlert>;
  /** The next `count` requests to the target get this failure (after their shape is checked). */
  failNext(target: ReceiverTarget, count: number, failure?: InjectedFailure): void;
  /** Stops listening: connections are refused until `comeBack()`, as with a service that is down. */
  goDown(): Promise<void>;
  comeBack(): Promise<void>;
  /** Resolves with the first recorded request (already received or still to come) that matches. */
  waitFor(match: (request: ReceivedRequest) => boolean, options?: { timeoutMs?: number; what?: string }): Promise<ReceivedRequest>;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** What the request changes (an incident, an alert), applied only if it is accepted and not failed on purpose. */
  onAccept?: () => void;
}

const json = (status: number, value: unknown, headers?: Record<string, string>): Answer => ({ status, body: JSON.stringify(value), contentType: 'application/json', headers });
const text = (status: number, value: string): Answer => ({ status, body: value, contentType: 'text/plain; charset=utf-8' });

function targetOf(path: string): ReceiverTarget | 'unknown' {
  if (path.startsWith('/slack/')) return 'slack';
  if (path === '/v2/enqueue') return 'pagerduty';
  if (/^\/v1\/pages\/[^/]+\/incidents(\/[^/]+)?$/.test(path)) return 'statuspage';
  if (path === '/webhook' || path.startsWith('/webhook/')) return 'webhook';
  if (path === '/alertmanager' || path.startsWith('/alertmanager/')) return 'alertmanager';
  return 'unknown';
}

export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const now = options.now ?? Date.now;
  const signingSecret = options.signingSecret ?? randomBytes(24).toString('base64url');
  const requests: ReceivedRequest[] = [];
  const failures = new Map<ReceiverTarget, Array<InjectedFailure>>();
  const statuspageIncidents = new Map<string, StatuspageIncident>();
  const pagerdutyAlerts = new Map<string, PagerDutyAlert>();
  const deliveries = new Set<string>();
  const waiters = new Set<{ match: (r: ReceivedRequest) => boolean; resolve: (r: ReceivedRequest) => void; reject: (e: Error) => void }>();
  const sockets = new Set<Socket>();

  const record = (request: ReceivedRequest) => {
    requests.push(request);
    for (const waiter of waiters) if (waiter.match(request)) { waiters.delete(waiter); waiter.resolve(request); }
  };

  function onlyMethods(method: string, allowed: string[], report: { problems: string[] }): boolean {
    if (allowed.includes(method)) return true;
    report.problems.push(`${method} is not accepted here; use ${allowed.join(' or ')}`);
    return false;
  }

  function needsJson(headers: IncomingHttpHeaders, raw: string, problems: string[]): unknown {
    if (!(headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) problems.push(`Content-Type must be application/json, not ${JSON.stringify(headers['content-type'] ?? '')}`);
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      problems.push('the body is not JSON');
      return undefined;
    }
  }

  function slack(method: string, headers: IncomingHttpHeaders, raw: string, rec: ReceivedRequest): Answer {
    if (!onlyMethods(method, ['POST'], rec)) return text(405, 'invalid_payload');
    rec.json = needsJson(headers, raw, rec.problems);
    if (rec.problems.length) return text(400, 'invalid_payload');
    const report = checkSlackMessage(rec.json);
    rec.problems.push(...report.problems);
    rec.warnings.push(...report.warnings);
    return report.slackError ? text(400, report.slackError) : text(200, 'ok');
  }

  function pagerduty(method: string, headers: IncomingHttpHeaders, raw: string, rec: ReceivedRequest): Answer {
    const invalid = () => json(400, { status: 'invalid event', message: 'Event object is invalid', errors: rec.problems });
    if (!onlyMethods(method, ['POST'], rec)) return invalid();
    rec.json = needsJson(headers, raw, rec.problems);
    if (rec.problems.length) return invalid();
    const report = checkPagerDutyEvent(rec.json, options.pagerdutyRoutingKey);
    rec.problems.push(...report.problems);
    rec.warnings.push(...report.warnings);
    if (rec.problems.length) return invalid();
    const event = rec.json as { event_action: PagerDutyAction; dedup_key?: string; payload?: { summary?: string; severity?: string } };
    const dedupKey = event.dedup_key ?? randomBytes(16).toString('hex');
    return { ...json(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey }), onAccept: () => {
      const alert = pagerdutyAlerts.get(dedupKey) ?? { dedupKey, state: event.event_action, actions: [] };
      alert.state = event.event_action;
      alert.actions.push(event.event_action);
      if (event.payload?.summary) alert.summary = event.payload.summary;
      if (event.payload?.severity) alert.severity = event.payload.severity;
      pagerdutyAlerts.set(dedupKey, alert);
    } };
  }

  function statuspage(method: string, path: string, query: URLSearchParams, headers: IncomingHttpHeaders, raw: string, rec: ReceivedRequest): Answer {
    const [, pageId, incidentId] = path.match(/^\/v1\/pages\/([^/]+)\/incidents(?:\/([^/]+))?$/)!;
    const auth = headers.authorization ?? '';
    const key = auth.match(/^OAuth (\S+)$/)?.[1];
    if (!key || (options.statuspageApiKey !== undefined && key !== options.statuspageApiKey)) {
      rec.problems.push(key ? 'the OAuth API key is not valid for this page' : `Authorization must be "OAuth <api key>", not ${JSON.stringify(auth)}`);
      return json(401, { error: 'Could not authenticate' });
    }
    if (options.statuspagePageId !== undefined && pageId !== options.statuspagePageId) {
      rec.problems.push(`page ${pageId} does not exist (this receiver serves page ${options.statuspagePageId})`);
      return json(404, { error: 'Record not found' });
    }
    if (incidentId === 'unresolved' && method === 'GET') return unresolved(pageId!, query);
    const mode = incidentId ? 'update' : 'create';
    if (!onlyMethods(method, mode === 'create' ? ['POST'] : ['PATCH', 'PUT'], rec)) return json(405, { error: 'Method not allowed' });
    const existing = incidentId ? statuspageIncidents.get(incidentId) : undefined;
    if (incidentId && !existing) {
      rec.problems.push(`incident ${incidentId} does not exist on page ${pageId}`);
      return json(404, { error: 'Record not found' });
    }
    rec.json = needsJson(headers, raw, rec.problems);
    if (!rec.problems.length) {
      const report = checkStatuspageIncident(rec.json, mode);
      rec.problems.push(...report.problems);
      rec.warnings.push(...report.warnings);
    }
    // Statuspage refuses an invalid incident as unprocessable.
    if (rec.problems.length) return json(422, { error: rec.problems });
    const fields = (rec.json as { incident: { name?: string; status?: string; body?: string; impact_override?: string; components?: Record<string, string>; metadata?: Record<string, unknown> } }).incident;
    const incident: StatuspageIncident = existing
      ? { ...existing, updates: [...existing.updates], components: { ...existing.components } }
      : { id: randomBytes(6).toString('hex'), pageId: pageId!, name: fields.name!, status: 'investigating', impact: 'none', updates: [], components: {} };
    if (fields.name) incident.name = fields.name;
    if (fields.status) incident.status = fields.status;
    if (fields.impact_override) incident.impact = fields.impact_override;
    Object.assign(incident.components, fields.components ?? {});
    if (fields.metadata) incident.metadata = { ...incident.metadata, ...fields.metadata };
    if (fields.body !== undefined || fields.status !== undefined) incident.updates.push({ status: incident.status, ...(fields.body !== undefined ? { body: fields.body } : {}) });
    const answer = json(existing ? 200 : 201, incidentJson(incident));
    return { ...answer, onAccept: () => statuspageIncidents.set(incident.id, incident) };
  }

  function incidentJson(incident: StatuspageIncident) {
    const stamp = new Date(now()).toISOString();
    return {
      id: incident.id, page_id: incident.pageId, name: incident.name, status: incident.status, impact: incident.impact,
      shortlink: `https://stspg.io/${incident.id}`, created_at: stamp, updated_at: stamp, metadata: incident.metadata ?? {},
      incident_updates: incident.updates.map((u, i) => ({ id: `${incident.id}-${i}`, status: u.status, body: u.body ?? '', created_at: stamp })),
    };
  }

  // Statuspage lists a page's incidents in investigating, identified or monitoring, newest first, in
  // pages of per_page (at most 100) (https://developer.statuspage.io/#operation/getPagesPageIdIncidentsUnresolved).
  function unresolved(pageId: string, query: URLSearchParams): Answer {
    const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 100) || 100));
    const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
    const open = [...statuspageIncidents.values()].filter((i) => i.pageId === pageId && ['investigating', 'identified', 'monitoring'].includes(i.status)).reverse();
    return json(200, open.slice((page - 1) * perPage, page * perPage).map(incidentJson));
  }

  function webhook(method: string, headers: IncomingHttpHeaders, raw: string, rec: ReceivedRequest): Answer {
    if (!onlyMethods(method, ['POST'], rec)) return json(405, { error: 'POST only' });
    const signature = verifyWebhookSignature(headers[signatureHeader] as string | undefined, raw, signingSecret, Math.floor(now() / 1000), options.signatureToleranceSeconds);
    if (!signature.ok) {
      rec.problems.push(signature.reason);
      return json(401, { error: signature.reason });
    }
    const delivery = headers[deliveryHeader];
    if (typeof delivery !== 'string' || delivery.length === 0) rec.problems.push(`no ${deliveryHeader} header: a receiver cannot tell a retry from a new notification`);
    if (typeof headers[eventHeader] !== 'string' || (headers[eventHeader] as string).length === 0) rec.problems.push(`no ${eventHeader} header`);
    rec.json = needsJson(headers, raw, rec.problems);
    if (rec.json !== undefined && (typeof rec.json !== 'object' || rec.json === null || Array.isArray(rec.json))) rec.problems.push('the body must be a JSON object');
    if (rec.problems.length) return json(400, { error: rec.problems });
    rec.deliveryId = delivery as string;
    rec.duplicateDelivery = deliveries.has(rec.deliveryId);
    return { ...json(200, { ok: true, duplicate: rec.duplicateDelivery }), onAccept: () => deliveries.add(rec.deliveryId!) };
  }

  function alertmanager(method: string, headers: IncomingHttpHeaders, raw: string, rec: ReceivedRequest): Answer {
    if (!onlyMethods(method, ['POST'], rec)) return text(405, 'POST only');
    rec.json = needsJson(headers, raw, rec.problems);
    if (!rec.problems.length) rec.problems.push(...checkAlertmanagerNotification(rec.json).problems);
    return rec.problems.length ? text(400, rec.problems.join('; ')) : text(200, 'ok');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const { pathname: path, searchParams: query } = new URL(req.url ?? '/', 'http://receiver');
    const target = targetOf(path);
    const rec: ReceivedRequest = { target, method, path, headers: req.headers, body: raw, receivedAt: new Date(now()), problems: [], warnings: [], status: 0 };
    let answer: Answer;
    switch (target) {
      case 'slack': answer = slack(method, req.headers, raw, rec); break;
      case 'pagerduty': answer = pagerduty(method, req.headers, raw, rec); break;
      case 'statuspage': answer = statuspage(method, path, query, req.headers, raw, rec); break;
      case 'webhook': answer = webhook(method, req.headers, raw, rec); break;
      case 'alertmanager': answer = alertmanager(method, req.headers, raw, rec); break;
      default:
        rec.problems.push(`nothing is served at ${method} ${path}`);
        answer = text(404, 'not found');
    }
    const injected = target !== 'unknown' ? failures.get(target)?.shift() : undefined;
    if (injected) {
      rec.injectedFailure = true;
      answer = { ...text(injected.status ?? 503, injected.body ?? 'injected failure'), headers: injected.retryAfterSeconds !== undefined ? { 'retry-after': String(injected.retryAfterSeconds) } : undefined };
    } else if (answer.status < 300) {
      answer.onAccept?.();
    }
    rec.status = answer.status;
    const headers: Record<string, string> = { 'content-type': answer.contentType ?? 'text/plain', ...answer.headers };
    if (rec.problems.length) headers['x-receiver-problems'] = JSON.stringify(rec.problems);
    res.writeHead(answer.status, headers).end(answer.body);
    record(rec);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) res.writeHead(500).end(error.message);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const listen = (port: number) => new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
  const stopListening = () => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    if (!server.listening) { resolve(); return; }
    server.close(() => resolve());
  });
  const port = await listen(options.port ?? 0);
  const url = `http://127.0.0.1:${port}`;
  const pageId = options.statuspagePageId ?? 'page0000test';

  return {
    url,
    port,
    urls: { slack: `${url}/slack/services/T0000/B0000/test`, pagerduty: `${url}/v2/enqueue`, statuspage: `${url}/v1/pages/${pageId}`, webhook: `${url}/webhook`, alertmanager: `${url}/alertmanager` },
    signingSecret,
    requests,
    accepted: (target) => requests.filter((r) => r.target === target && !r.injectedFailure && r.status >= 200 && r.status < 300),
    statuspageIncidents,
    pagerdutyAlerts,
    failNext(target, count, failure = {}) {
      const queue = failures.get(target) ?? [];
      for (let i = 0; i < count; i++) queue.push(failure);
      failures.set(target, queue);
    },
    goDown: stopListening,
    async comeBack() {
      if (!server.listening) await listen(port);
    },
    waitFor(match, { timeoutMs = 30_000, what = 'a matching request' } = {}) {
      const seen = requests.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise<ReceivedRequest>((resolve, reject) => {
        const waiter = {
          match,
          resolve: (r: ReceivedRequest) => { clearTimeout(timer); resolve(r); },
          reject: (e: Error) => { clearTimeout(timer); reject(e); },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`the webhook receiver got no ${what} within ${timeoutMs / 1000} s; it got: ${requests.map((r) => `${r.method} ${r.path} → ${r.status}${r.problems.length ? ` (${r.problems.join('; ')})` : ''}`).join(', ') || 'nothing'}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async close() {
      for (const waiter of waiters) waiter.reject(new Error('the webhook receiver was closed'));
      waiters.clear();
      await stopListening();
    },
  };
}
