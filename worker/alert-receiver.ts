import { createHash, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { listenOn } from '../lib/http-listen';
import type { SecretStore } from '../activities/ports/secret-store';
import type { AlertNote } from '../contracts/alert-note';
import { describeIssues, type RunbookInput } from '../contracts/inputs';
import { runbookSummary } from '../contracts/summary';
import { alertSignal } from '../workflows/alert-notes';
import { startableWorkflows } from '../workflows/scenarios';
import type { AlertRunbook, WorkerConfig } from './config';

/**
 * Alert-triggered runbooks: Alertmanager's webhook receiver (webhook_configs, payload version 4). A
 * firing alert group starts the runbook its alertname maps to (config alerts.runbooks), as a real run
 * whose gates still need people, started by the receiver's identity; a repeated notification of the same
 * group never starts a second one, and a resolved notification is noted on the running runbook's
 * timeline. Alertmanager authenticates with its http_config (a bearer token or basic auth, from a
 * secret); anything else is refused with 401.
 *
 *   POST /alerts    Alertmanager's notification → 200 {action, workflowId?, …}; 400 not a v4 payload;
 *                   401 unauthenticated; 413 too large; 422 an input the mapping cannot make; 503 Temporal
 *                   unreachable (Alertmanager retries 5xx, never 4xx)
 *   GET  /healthz   200 "ok" (no authentication: it says nothing but that the receiver is up)
 *
 * One alert group is one runbook: the workflow id is derived from the groupKey, so a repeat (or a second
 * Alertmanager of an HA pair) finds the running one (WorkflowIdConflictPolicy FAIL: the start is refused
 * and answered "already running"). A group that fires again after its runbook ended starts a new run only
 * if it is a new incident: none of its firing alerts (fingerprint and start time) is one the ended run
 * was started for. A database left down after its failover keeps firing; it is the same incident, and
 * nobody wants a second failover every repeat_interval.
 */

const maxBodyBytes = 1024 * 1024;

const labelMap = z.record(z.string(), z.string());
const alertmanagerAlert = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: labelMap,
  annotations: labelMap.default({}),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.string(),
  fingerprint: z.string().min(1).max(64),
});
/** Alertmanager's webhook payload, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
const alertmanagerNotification = z.looseObject({
  version: z.literal('4', { error: 'must be "4" (Alertmanager webhook payload version)' }),
  groupKey: z.string().min(1).max(4096),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labelMap,
  commonLabels: labelMap,
  alerts: z.array(alertmanagerAlert).min(1, 'must hold at least one alert'),
});
export type AlertmanagerNotification = z.infer<typeof alertmanagerNotification>;

export type ReceiverAnswer =
  | { action: 'started'; workflowId: string; workflowType: string }
  | { action: 'already-running'; workflowId: string }
  | { action: 'already-handled'; workflowId: string; status: string }
  | { action: 'noted'; workflowId: string }
  | { action: 'ignored'; reason: string; workflowId?: string };

/** The workflow id of an alert group: alertname (readable in the Web UI) and a hash of the groupKey. */
export function alertWorkflowId(alertname: string, groupKey: string): string {
  const slug = alertname.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/[^A-Za-z0-9]+/g, '-').toLowerCase().slice(0, 48);
  return `alert-${slug}-${createHash('sha256').update(groupKey).digest('hex').slice(0, 16)}`;
}

/** An alert's identity across notifications: Alertmanager's fingerprint and when it started firing. */
const occurrence = (a: { fingerprint: string; startsAt: string }) => `${a.fingerprint}@${a.startsAt}`;

export interface AlertReceiverOptions {
  client: Client;
  taskQueue: string;
  config: Pick<WorkerConfig, 'environment' | 'alerts'>;
  secrets: SecretStore;
  log?: (line: string) => void;
}

/** Why a request may not go further (401), or undefined when it carries the configured credentials. */
async function authenticate(req: IncomingMessage, auth: NonNullable<WorkerConfig['alerts']['receiver']>['auth'], secrets: SecretStore): Promise<string | undefined> {
  const header = req.headers.authorization ?? '';
  const same = (given: string, expected: string) => {
    const a = createHash('sha256').update(given).digest();
    const b = createHash('sha256').update(expected).digest();
    return timingSafeEqual(a, b);
  };
  if ('bearerTokenSecret' in auth) {
    const token = /^Bearer (.+)$/i.exec(header)?.[1];
    if (!token) return 'Bearer';
    return same(token, (await secrets.read(auth.bearerTokenSecret)).value.trim()) ? undefined : 'Bearer';
  }
  const encoded = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header)?.[1];
  if (!encoded) return 'Basic';
  const given = Buffer.from(encoded, 'base64').toString('utf8');
  return same(given, `${auth.basicAuth.username}:${(await secrets.read(auth.basicAuth.passwordSecret)).value.trim()}`) ? undefined : 'Basic';
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

class Refusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The workflow's input: the mapping's fixed fields, the fields its labels fill, and who, what and since when. */
export function inputFor(rule: AlertRunbook, n: AlertmanagerNotification, options: { environment: string; identity: string; workflowId: string }): { workflowType: string; input: unknown; summary: string } {
  const startable = startableWorkflows[rule.start]!;
  const firing = n.alerts.filter((a) => a.status === 'firing');
  const since = firing.map((a) => a.startsAt).sort()[0] ?? n.alerts[0]!.startsAt;
  const fromLabels: Record<string, string> = {};
  for (const [field, label] of Object.entries(rule.labels)) {
    const value = n.commonLabels[label] ?? n.groupLabels[label];
    if (value !== undefined) fromLabels[field] = value;
  }
  const incidentId = `ALERT-${new Date(since).toISOString().slice(0, 16).replace(/[-:]/g, '')}Z-${options.workflowId.slice(-6)}`;
  const common = { ...rule.input, ...fromLabels, incidentId, environment: options.environment };
  const raw = startable.kind === 'runbook'
    ? { ...common, startedBy: options.identity, declaredAt: new Date(since).toISOString() }
    : { ...common, ...(rule.page ? { page: true, startedBy: options.identity } : {}) };
  const parsed = startable.input.safeParse(raw);
  if (!parsed.success) throw new Refusal(422, `alerts.runbooks.${n.commonLabels.alertname}: the input for ${rule.start} is not valid: ${describeIssues(parsed.error)}`);
  const input = parsed.data as Record<string, unknown>;
  const summary = startable.kind === 'runbook'
    ? `${runbookSummary(rule.start, input as RunbookInput)} · alert ${n.commonLabels.alertname}`
    : `${rule.start} · ${String(input.database ?? '')} · alert ${n.commonLabels.alertname} · started by ${options.identity}`;
  return { workflowType: startable.workflowType, input, summary };
}

/** The note a resolved (or still firing) group leaves on its runbook: the group's labels and times only. */
function noteOf(n: AlertmanagerNotification, alertname: string): AlertNote {
  const starts = n.alerts.map((a) => a.startsAt).sort();
  const ends = n.alerts.map((a) => a.endsAt).filter((e) => !e.startsWith('0001-')).sort();
  return { status: n.status, alertname, labels: { ...n.groupLabels }, ...(starts[0] ? { startsAt: starts[0] } : {}), ...(n.status === 'resolved' && ends.length ? { endsAt: ends.at(-1)! } : {}) };
}

/** What one notification does; Temporal errors propagate (the caller answers 503). */
export function createAlertHandling(options: AlertReceiverOptions) {
  const { client, config } = options;
  const identity = config.alerts.receiver?.identity ?? 'alertmanager';

  async function describe(workflowId: string) {
    try {
      return await client.workflow.getHandle(workflowId).describe();
    } catch (error) {
      if ((error as Error).name === 'WorkflowNotFoundError') return undefined;
      throw error;
    }
  }

  return async function handle(n: AlertmanagerNotification): Promise<ReceiverAnswer> {
    const alertname = n.commonLabels.alertname ?? n.groupLabels.alertname;
    if (!alertname) throw new Refusal(422, 'the alert group has no common alertname: group Alertmanager\'s route by alertname (group_by: [alertname, …])');
    const rule = config.alerts.runbooks[alertname];
    if (!rule) return { action: 'ignored', reason: `no runbook is mapped to ${alertname} (alerts.runbooks)` };
    const environment = n.commonLabels.environment;
    if (environment !== undefined && environment !== config.environment) return { action: 'ignored', reason: `the alert is for environment "${environment}"; this receiver serves "${config.environment}"` };
    const workflowId = alertWorkflowId(alertname, n.groupKey);
    const current = await describe(workflowId);
    const running = current?.status.name === 'RUNNING';

    if (n.status === 'resolved') {
      if (!running) return { action: 'ignored', reason: 'the alert resolved and no runbook of its group is running', workflowId };
      await client.workflow.getHandle(workflowId).signal(alertSignal, noteOf(n, alertname));
      return { action: 'noted', workflowId };
    }
    if (running) return { action: 'already-running', workflowId };
    const occurrences = n.alerts.filter((a) => a.status === 'firing').map(occurrence);
    if (current) {
      const startedFor = ((current.memo?.alert as { occurrences?: unknown } | undefined)?.occurrences ?? []) as string[];
      if (occurrences.some((o) => startedFor.includes(o))) return { action: 'already-handled', workflowId, status: current.status.name.toLowerCase() };
    }
    const { workflowType, input, summary } = inputFor(rule, n, { environment: config.environment, identity, workflowId });
    try {
      await client.workflow.start(workflowType, {
        taskQueue: options.taskQueue,
        workflowId,
        args: [input],
        // A new incident of the same group after the last run ended; never a second one beside a running run.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        staticSummary: summary,
        memo: { alert: { alertname, groupLabels: n.groupLabels, occurrences } },
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return { action: 'already-running', workflowId };
      throw error;
    }
    return { action: 'started', workflowId, workflowType };
  };
}

export interface AlertReceiver {
  /** http://host:port/alerts: the webhook_configs url. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves the receiver on `alerts.receiver.listen`. */
export async function startAlertReceiver(options: AlertReceiverOptions): Promise<AlertReceiver> {
  const receiver = options.config.alerts.receiver;
  if (!receiver) throw new Error('alerts.receiver: not configured (listen, auth) — the alert receiver has nothing to serve');
  const handle = createAlertHandling(options);
  const log = options.log ?? ((line: string) => console.log(line));
  const answer = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(`${JSON.stringify(body)}\n`);
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      if (path !== '/alerts') return answer(res, 404, { error: 'Alertmanager posts to /alerts' });
      if (req.method !== 'POST') return answer(res, 405, { error: 'POST only' }, { allow: 'POST' });
      let challenge: string | undefined;
      try {
        challenge = await authenticate(req, receiver.auth, options.secrets);
      } catch (error) {
        log(`alert-receiver: cannot read its credentials: ${(error as Error).message}`);
        return answer(res, 503, { error: 'the receiver cannot read its credentials (see its log)' });
      }
      if (challenge) {
        log(`alert-receiver: refused an unauthenticated request from ${req.socket.remoteAddress ?? 'unknown'}`);
        return answer(res, 401, { error: 'not authenticated: configure http_config in Alertmanager\'s webhook_configs' }, { 'www-authenticate': `${challenge} realm="dr-runbooks alert receiver"` });
      }
      const body = await readBody(req);
      if (body === undefined) return answer(res, 413, { error: `the body is larger than ${maxBodyBytes} bytes: lower max_alerts in webhook_configs` });
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        return answer(res, 400, { error: 'the body is not JSON' });
      }
      const parsed = alertmanagerNotification.safeParse(json);
      if (!parsed.success) return answer(res, 400, { error: `not an Alertmanager webhook notification: ${describeIssues(parsed.error)}` });
      try {
        const result = await handle(parsed.data);
        log(`alert-receiver: ${parsed.data.commonLabels.alertname ?? '(no alertname)'} ${parsed.data.status}: ${result.action}${'workflowId' in result && result.workflowId ? ` ${result.workflowId}` : ''}${'reason' in result ? ` (${result.reason})` : ''}`);
        return answer(res, 200, result);
      } catch (error) {
        if (error instanceof Refusal) {
          log(`alert-receiver: ${error.message}`);
          return answer(res, error.status, { error: error.message });
        }
        log(`alert-receiver: could not act on the notification: ${(error as Error).message}`);
        return answer(res, 503, { error: `could not reach Temporal: ${(error as Error).message}` });
      }
    })().catch((error: unknown) => answer(res, 500, { error: (error as Error).message }));
  });
  const listening = await listenOn(server, receiver.listen, 'alerts.receiver.listen');
  return { url: `${listening.baseUrl}/alerts`, port: listening.port, close: listening.close };
}
