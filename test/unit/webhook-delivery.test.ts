import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deliver, NotificationDeliveryError, redact, retryAfterMs } from '../../activities/adapters/webhooks/delivery';

// The retry arithmetic on a clock the test owns; the receiver-backed tests cover the HTTP side.
function clockedFetch(statuses: Array<number | 'refused'>, headers: Record<string, string> = {}) {
  let t = 1_000_000;
  const waits: number[] = [];
  const calls: number[] = [];
  const fetch = (async () => {
    calls.push(t);
    const next = statuses.shift() ?? 200;
    if (next === 'refused') throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    return new Response(next === 200 ? 'ok' : 'busy', { status: next, headers });
  }) as typeof globalThis.fetch;
  return { fetch, now: () => t, sleep: async (ms: number) => { waits.push(ms); t += ms; }, waits, calls };
}
const channel = { label: 'slack "incidents"', secrets: ['https://hooks.slack.com/services/T/B/s3cret'] };
const request = { method: 'POST' as const, url: 'https://hooks.slack.com/services/T/B/s3cret', headers: () => ({}), body: '{}' };

test('Retry-After is read as seconds or as an HTTP date; anything else is ignored', () => {
  const now = Date.parse('2026-11-23T03:00:00Z');
  assert.equal(retryAfterMs('3', now), 3000);
  assert.equal(retryAfterMs('1.5', now), 1500);
  assert.equal(retryAfterMs('Mon, 23 Nov 2026 03:00:30 GMT', now), 30_000);
  assert.equal(retryAfterMs('Mon, 23 Nov 2026 02:00:00 GMT', now), 0);
  assert.equal(retryAfterMs('soon', now), undefined);
  assert.equal(retryAfterMs(null, now), undefined);
});

test('redaction covers a secret and its URL-encoded form, and leaves short strings alone', () => {
  assert.equal(redact('a https://x/y?z b https%3A%2F%2Fx%2Fy%3Fz c', ['https://x/y?z']), 'a [redacted] b [redacted] c');
  assert.equal(redact('abc', ['ab']), 'abc');
});

test('backoff doubles up to its cap, and the deadline shared by a notification stops the retries', async () => {
  const c = clockedFetch([503, 503, 503, 503, 200]);
  const ok = await deliver(channel, request, { fetch: c.fetch, now: c.now, sleep: c.sleep, random: () => 1, policy: { attempts: 5, initialBackoffMs: 100, maxBackoffMs: 300, budgetMs: 10_000 } });
  assert.equal(ok.attempts, 5);
  assert.deepEqual(c.waits, [100, 200, 300, 300]);

  const d = clockedFetch(['refused', 'refused', 'refused']);
  const deadlineAt = d.now() + 250;
  await assert.rejects(deliver(channel, request, { fetch: d.fetch, now: d.now, sleep: d.sleep, random: () => 1, policy: { attempts: 5, initialBackoffMs: 100, maxBackoffMs: 300, budgetMs: 10_000 } }, deadlineAt), (error: NotificationDeliveryError) => {
    assert.equal(error.message, 'slack "incidents": not delivered after 2 attempt(s) in 0.1 s: connection refused (the service is down or the address is wrong); its delivery budget is spent');
    assert.equal(error.permanent, false);
    assert.equal(error.channel, 'slack "incidents"');
    return true;
  });
  assert.equal(d.calls.length, 2);
});
