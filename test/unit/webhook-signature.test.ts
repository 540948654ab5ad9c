import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signWebhookBody, verifyWebhookSignature } from '../../lib/webhook-signature';

// Receivers implement this scheme from its description, so it must not drift: this value was computed
// outside Node, with `printf '%s' '1700000000.{"event":"incident.opened"}' | openssl dgst -sha256 -hmac whsec-test`.
const body = '{"event":"incident.opened"}';
const knownAnswer = 't=1700000000,v1=530a43663381116240a63e9e4f942deb15f6d0d52057b5cd93b617fac3293de2';

test('X-DR-Signature is t=<seconds>,v1=hex(HMAC-SHA256(secret, "<t>.<body>")), as openssl computes it', () => {
  assert.equal(signWebhookBody('whsec-test', body, 1_700_000_000), knownAnswer);
  assert.deepEqual(verifyWebhookSignature(knownAnswer, body, 'whsec-test', 1_700_000_100), { ok: true, timestamp: 1_700_000_000 });
});

test('the check refuses, with the reason, a timestamp outside the tolerance either way', () => {
  assert.match((verifyWebhookSignature(knownAnswer, body, 'whsec-test', 1_700_000_301) as { reason: string }).reason, /301 s from now, outside ±300 s/);
  assert.match((verifyWebhookSignature(knownAnswer, body, 'whsec-test', 1_699_999_000, 600) as { reason: string }).reason, /-1000 s from now, outside ±600 s/);
});

test('signing refuses an empty secret and a timestamp that is not Unix seconds', () => {
  assert.throws(() => signWebhookBody('', body, 1_700_000_000), /secret must not be empty/);
  assert.throws(() => signWebhookBody('s', body, Date.now() + 0.5), /is not Unix seconds/);
});
