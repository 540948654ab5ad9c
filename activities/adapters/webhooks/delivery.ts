import type { SecretStore } from '../../ports/secret-store';

/**
 * One HTTP delivery to a notification channel, with what every webhook consumer documents: retry on
 * a network error, a timeout, 408, 429 and 5xx with exponential backoff (full jitter), wait as long as
 * Retry-After asks, never retry a request the service refused as wrong (other 4xx). The whole delivery
 * stays inside a budget shorter than the notify activity's timeout, so a channel that stays down ends
 * in a clear error instead of a timed-out activity that Temporal would retry against every channel.
 *
 * Errors name the channel, never its URL, key or token: a Slack webhook URL is itself the secret, and
 * whatever a service or the network stack echoes back is scrubbed of every secret value before it is
 * put into an error.
 */

export interface DeliveryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** Longest one request may take before it is given up (and retried). */
  requestTimeoutMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Longest the whole delivery may take, waits included; under the notify activity's 30 s start-to-close. */
  budgetMs: number;
}

export const defaultDeliveryPolicy: DeliveryPolicy = { attempts: 5, requestTimeoutMs: 5_000, initialBackoffMs: 500, maxBackoffMs: 8_000, budgetMs: 20_000 };

export interface DeliveryRequest {
  method: 'GET' | 'POST' | 'PATCH';
  url: string;
  /** Built again for every attempt: a signature carries the time it was made. */
  headers: () => Record<string, string>;
  body?: string;
}

export interface DeliveryResponse {
  status: number;
  headers: Headers;
  body: string;
  attempts: number;
}

export interface ChannelIdentity {
  /** How errors name the channel, e.g. `slack "incidents" (#incidents)`. */
  label: string;
  /** Values that must never appear in an error: URLs, keys, tokens. */
  secrets: string[];
}

export interface DeliveryDependencies {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
  policy?: Partial<DeliveryPolicy>;
}

export class NotificationDeliveryError extends Error {
  constructor(
    readonly channel: string,
    message: string,
    /** The service's last HTTP status, if it answered. */
    readonly status: number | undefined,
    /** The service refused the request itself: sending it again would not help. */
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'NotificationDeliveryError';
  }
}

/** Replaces every secret value (and its URL-encoded form) in a text. */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('[redacted]');
  }
  return out;
}

const retryableStatus = (status: number) => status === 408 || status === 425 || status === 429 || status >= 500;

/** Retry-After in ms: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function networkProblem(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  const code = e.cause?.code;
  switch (code) {
    case 'ECONNREFUSED': return 'connection refused (the service is down or the address is wrong)';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'host not found (DNS)';
    case 'ECONNRESET': case 'UND_ERR_SOCKET': return 'connection reset';
    case 'UND_ERR_CONNECT_TIMEOUT': return `could not connect within ${timeoutMs / 1000} s`;
    case 'UND_ERR_HEADERS_TIMEOUT': case 'UND_ERR_BODY_TIMEOUT': return `no answer within ${timeoutMs / 1000} s`;
    default: return code ? `network error ${code}` : `network error: ${e.cause?.message ?? e.message ?? String(error)}`;
  }
}

function describeAnswer(status: number, statusText: string, body: string): string {
  const snippet = body.replace(/\s+/g, ' ').trim().slice(0, 300);
  return `HTTP ${status}${statusText ? ` ${statusText}` : ''}${snippet ? `: ${snippet}` : ''}`;
}

/**
 * Sends one request to a channel, retrying as the policy allows; resolves with the first 2xx answer.
 * `deadlineAt` (ms since the epoch) shares one budget among the requests of one notification.
 */
export async function deliver(channel: ChannelIdentity, request: DeliveryRequest, deps: DeliveryDependencies = {}, deadlineAt?: number): Promise<DeliveryResponse> {
  const policy = { ...defaultDeliveryPolicy, ...deps.policy };
  const doFetch = deps.fetch ?? fetch;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const startedAt = now();
  const endAt = Math.min(startedAt + policy.budgetMs, deadlineAt ?? Infinity);
  const fail = (message: string, status: number | undefined, permanent: boolean) =>
    new NotificationDeliveryError(channel.label, redact(`${channel.label}: ${message}`, channel.secrets), status, permanent);
  const elapsed = () => `${((now() - startedAt) / 1000).toFixed(1)} s`;

  let lastProblem = '';
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    let wait: number | undefined;
    try {
      const response = await doFetch(request.url, {
        method: request.method,
        headers: request.headers(),
        ...(request.body !== undefined ? { body: request.body } : {}),
        signal: AbortSignal.timeout(Math.min(policy.requestTimeoutMs, Math.max(1, endAt - now()))),
        redirect: 'error',
      });
      const body = await response.text();
      if (response.status >= 200 && response.status < 300) return { status: response.status, headers: response.headers, body, attempts: attempt };
      lastStatus = response.status;
      lastProblem = describeAnswer(response.status, response.statusText, body);
      if (!retryableStatus(response.status)) {
        throw fail(`refused with ${lastProblem} (not retried: the service says the request itself is wrong)`, response.status, true);
      }
      wait = retryAfterMs(response.headers.get('retry-after'), now());
    } catch (error) {
      if (error instanceof NotificationDeliveryError) throw error;
      lastStatus = undefined;
      lastProblem = networkProblem(error, policy.requestTimeoutMs);
    }
    if (attempt === policy.attempts) break;
    const backoff = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempt - 1)) * random();
    const delay = Math.max(backoff, wait ?? 0);
    const left = endAt - now();
    if (delay >= left) {
      const why = wait !== undefined && wait >= left
        ? `it asked to retry after ${Math.ceil(wait / 1000)} s (Retry-After), longer than the ${Math.max(0, Math.floor(left / 1000))} s this notification may still wait`
        : 'its delivery budget is spent';
      throw fail(`not delivered after ${attempt} attempt(s) in ${elapsed()}: ${lastProblem}; ${why}`, lastStatus, false);
    }
    await sleep(delay);
  }
  throw fail(`not delivered after ${policy.attempts} attempt(s) in ${elapsed()}: ${lastProblem}`, lastStatus, false);
}

/** When a notification that takes several requests must be done (shares one budget among them). */
export function deliveryDeadline(deps: DeliveryDependencies = {}): number {
  return (deps.now ?? Date.now)() + (deps.policy?.budgetMs ?? defaultDeliveryPolicy.budgetMs);
}

/** A channel's credential from the SecretStore, read at send time (a rotated secret is picked up). */
export async function channelSecret(channel: string, secrets: SecretStore, name: string, what: string): Promise<string> {
  let value: string;
  try {
    // The store's error already says where the secret was looked for, without any value.
    ({ value } = await secrets.read(name));
  } catch (error) {
    throw new NotificationDeliveryError(channel, `${channel}: cannot read its ${what}: ${(error as Error).message}`, undefined, true);
  }
  if (value.trim() === '') throw new NotificationDeliveryError(channel, `${channel}: its ${what} (secret "${name}") is empty`, undefined, true);
  return value.trim();
}
