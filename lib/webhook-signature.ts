import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How dr-runbooks signs the requests of its generic webhook notifier, the scheme Stripe uses for its
 * webhooks (https://stripe.com/docs/webhooks/signatures), under our own header names:
 *
 *   X-DR-Signature: t=<Unix seconds>,v1=<hex>[,v1=<hex>…]
 *   v1 = lowercase hex of HMAC-SHA256(key: the shared secret as UTF-8, message: "<t>.<raw request body>")
 *
 * A receiver recomputes v1 over the body bytes exactly as received (before any JSON parsing), accepts the
 * request if any v1 matches (compared in constant time), and refuses a `t` more than 5 minutes from its
 * own clock, so a captured request cannot be replayed later. Several v1 values let a sender sign with
 * the old and the new secret while a secret is being rotated.
 *
 *   X-DR-Delivery: a unique id per notification, the same on every retry of it: a receiver that has
 *                  seen it already drops the request instead of acting twice.
 *   X-DR-Event:    what happened (e.g. incident.opened), so a receiver can route without parsing.
 */
export const signatureHeader = 'x-dr-signature';
export const deliveryHeader = 'x-dr-delivery';
export const eventHeader = 'x-dr-event';
export const defaultToleranceSeconds = 300;

function hmacHex(secret: string, timestamp: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The X-DR-Signature value for a body, signed with each secret given (new one first while rotating). */
export function signWebhookBody(secrets: string | string[], body: string | Buffer, timestampSeconds: number): string {
  const list = Array.isArray(secrets) ? secrets : [secrets];
  if (list.length === 0 || list.some((s) => s.length === 0)) throw new Error('signWebhookBody: a signing secret must not be empty');
  if (!Number.isInteger(timestampSeconds) || timestampSeconds <= 0) throw new Error(`signWebhookBody: timestamp ${timestampSeconds} is not Unix seconds`);
  return [`t=${timestampSeconds}`, ...list.map((secret) => `v1=${hmacHex(secret, timestampSeconds, body)}`)].join(',');
}

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: string };

/** Checks an X-DR-Signature value against the body as received; says why when it does not verify. */
export function verifyWebhookSignature(header: string | undefined, body: string | Buffer, secret: string, nowSeconds: number, toleranceSeconds = defaultToleranceSeconds): SignatureCheck {
  if (!header) return { ok: false, reason: `no ${signatureHeader} header` };
  const parts = header.split(',').map((part) => part.trim().split('='));
  if (parts.some((p) => p.length !== 2 || !p[0] || !p[1])) return { ok: false, reason: `${signatureHeader} is not "t=<seconds>,v1=<hex>": ${header}` };
  const timestamps = parts.filter(([k]) => k === 't').map(([, v]) => v!);
  if (timestamps.length !== 1 || !/^\d+$/.test(timestamps[0]!)) return { ok: false, reason: `${signatureHeader} needs exactly one t=<Unix seconds>` };
  const timestamp = Number(timestamps[0]);
  const signatures = parts.filter(([k]) => k === 'v1').map(([, v]) => v!);
  if (signatures.length === 0) return { ok: false, reason: `${signatureHeader} has no v1 signature` };
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return { ok: false, reason: `${signatureHeader} timestamp ${timestamp} is ${Math.round(nowSeconds - timestamp)} s from now, outside ±${toleranceSeconds} s (a replay, or a clock off)` };
  const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
  const matches = signatures.some((hex) => /^[0-9a-f]{64}$/.test(hex) && timingSafeEqual(Buffer.from(hex, 'hex'), expected));
  return matches ? { ok: true, timestamp } : { ok: false, reason: `no v1 signature in ${signatureHeader} matches the body (wrong secret, or the body was changed)` };
}
