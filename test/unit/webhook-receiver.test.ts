import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signWebhookBody } from '../../lib/webhook-signature';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

// The receiver stands in for Slack, PagerDuty, Statuspage and our signed webhook in the notifier tests:
// if it accepted a wrong shape, those tests would pass against a payload the real service refuses.
const routingKey = 'R0UT1NGKEY0123456789abcdefABCDEF';
let receiver: WebhookReceiver;
before(async () => {
  receiver = await startWebhookReceiver({ signingSecret: 'whsec-test', pagerdutyRoutingKey: routingKey, statuspageApiKey: 'sp-key', statuspagePageId: 'pg1' });
});
after(() => receiver.close());

const post = (url: string, body: unknown, headers: Record<string, string> = {}, method = 'POST') =>
  fetch(url, { method, headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const last = () => receiver.requests.at(-1)!;

describe('Slack incoming webhook', () => {
  test('a Block Kit message with fallback text is answered "ok"', async () => {
    const response = await post(receiver.urls.slack, {
      text: '[CRITICAL] MITA Database Incident - Response In Progress',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: '[CRITICAL] MITA Database Incident' } },
        { type: 'section', text: { type: 'mrkdwn', text: '*Status:* Investigating' }, fields: [{ type: 'mrkdwn', text: '*ETA:* 45 min' }] },
        { type: 'divider' },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'next update in 30 minutes' }] },
        { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open runbook' }, url: 'http://127.0.0.1:8233/' }] },
      ],
    });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'ok');
    assert.deepEqual(last().problems, []);
    assert.deepEqual(last().warnings, []);
    assert.equal(receiver.accepted('slack').length, 1);
  });

  test('a message with neither text nor blocks is refused no_text', async () => {
    const response = await post(receiver.urls.slack, { username: 'dr' });
    assert.equal(response.status, 400);
    assert.equal(await response.text(), 'no_text');
    assert.deepEqual(last().problems, ['message needs text or blocks']);
  });

  test('blocks that break Block Kit are refused invalid_blocks, naming the block and the limit', async () => {
    const response = await post(receiver.urls.slack, {
      text: 'fallback',
      blocks: [
        { type: 'header', text: { type: 'mrkdwn', text: 'x'.repeat(151) } },
        { type: 'section' },
        { type: 'table' },
      ],
    });
    assert.equal(response.status, 400);
    assert.equal(await response.text(), 'invalid_blocks');
    assert.deepEqual(last().problems, [
      'blocks[0].text.type must be plain_text here',
      'blocks[0].text.text is 151 characters; at most 150',
      'blocks[1] needs text or fields',
      'blocks[2].type "table" is not a Block Kit block type',
    ]);
    assert.ok(JSON.parse(response.headers.get('x-receiver-problems')!).includes('blocks[1] needs text or fields'));
  });

  test('a body that is not JSON is refused invalid_payload', async () => {
    const response = await post(receiver.urls.slack, 'payload=%7B%7D', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(response.status, 400);
    assert.equal(await response.text(), 'invalid_payload');
    assert.match(last().problems.join('\n'), /Content-Type must be application\/json/);
  });

  test('what Slack accepts but people miss is a warning: no fallback text, a button nothing can receive', async () => {
    const response = await post(receiver.urls.slack, { blocks: [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Approve' }, action_id: 'approve' }] }] });
    assert.equal(response.status, 200);
    assert.deepEqual(last().problems, []);
    assert.deepEqual(last().warnings, [
      'blocks[0].elements[0]: a button without url only works in an interactive Slack app; nothing receives its click through an incoming webhook',
      'blocks without a top-level text: notifications and screen readers get no text',
    ]);
  });
});

describe('PagerDuty Events API v2', () => {
  const trigger = { routing_key: routingKey, event_action: 'trigger', dedup_key: 'dr-incident-42', payload: { summary: 'Database server failure: production', source: 'dr-runbooks/local', severity: 'critical', custom_details: { runbook: 'recoverFromServerFailure' } } };

  test('trigger then resolve with the same dedup_key: 202 success with that key, one alert resolved', async () => {
    const opened = await post(receiver.urls.pagerduty, trigger);
    assert.equal(opened.status, 202);
    assert.deepEqual(await opened.json(), { status: 'success', message: 'Event processed', dedup_key: 'dr-incident-42' });
    const resolved = await post(receiver.urls.pagerduty, { routing_key: routingKey, event_action: 'resolve', dedup_key: 'dr-incident-42' });
    assert.equal(resolved.status, 202);
    assert.deepEqual(receiver.pagerdutyAlerts.get('dr-incident-42'), { dedupKey: 'dr-incident-42', state: 'resolve', actions: ['trigger', 'resolve'], summary: 'Database server failure: production', severity: 'critical' });
  });

  test('an invalid event is refused 400 "invalid event" with every reason', async () => {
    const response = await post(receiver.urls.pagerduty, { routing_key: 'short', event_action: 'acknowledge', incident_key: 'x' });
    assert.equal(response.status, 400);
    const body = await response.json() as { status: string; errors: string[] };
    assert.equal(body.status, 'invalid event');
    assert.deepEqual(body.errors, [
      'event.incident_key is not a documented field (Events API v1; v2 calls it dedup_key)',
      "Length of 'routing_key' is incorrect (should be 32 characters)",
      'dedup_key is required to acknowledge: it names the alert the trigger opened',
    ]);
  });

  test('a trigger needs a payload with summary, source and one of the four severities', async () => {
    const response = await post(receiver.urls.pagerduty, { ...trigger, payload: { summary: 'x', severity: 'high' } });
    assert.equal(response.status, 400);
    assert.deepEqual(last().problems, ['payload.source must be a non-empty string (the affected system)', 'payload.severity must be one of critical, error, warning, info, not "high"']);
  });

  test("another service's routing key is refused", async () => {
    const response = await post(receiver.urls.pagerduty, { ...trigger, routing_key: 'X'.repeat(32) });
    assert.equal(response.status, 400);
    assert.deepEqual(last().problems, ['routing_key is not the integration key of this service']);
  });
});

describe('Atlassian Statuspage', () => {
  const auth = { authorization: 'OAuth sp-key' };

  test('create, then update to resolved: 201 then 200, the incident and its updates recorded', async () => {
    const created = await post(`${receiver.urls.statuspage}/incidents`, { incident: { name: 'MITA database incident', status: 'investigating', body: 'We are investigating.', impact_override: 'major', component_ids: ['cmp1'], components: { cmp1: 'major_outage' }, deliver_notifications: true } }, auth);
    assert.equal(created.status, 201);
    const { id } = await created.json() as { id: string };
    const updated = await post(`${receiver.urls.statuspage}/incidents/${id}`, { incident: { status: 'resolved', body: 'Resolved. Total downtime 42 minutes.', components: { cmp1: 'operational' } } }, auth, 'PATCH');
    assert.equal(updated.status, 200);
    assert.deepEqual(receiver.statuspageIncidents.get(id), {
      id, pageId: 'pg1', name: 'MITA database incident', status: 'resolved', impact: 'major', components: { cmp1: 'operational' },
      updates: [{ status: 'investigating', body: 'We are investigating.' }, { status: 'resolved', body: 'Resolved. Total downtime 42 minutes.' }],
    });
  });

  test('no OAuth key, or the wrong scheme, is refused 401', async () => {
    assert.equal((await post(`${receiver.urls.statuspage}/incidents`, { incident: { name: 'x' } })).status, 401);
    assert.match(last().problems[0]!, /Authorization must be "OAuth <api key>"/);
    assert.equal((await post(`${receiver.urls.statuspage}/incidents`, { incident: { name: 'x' } }, { authorization: 'Bearer sp-key' })).status, 401);
    assert.equal((await post(`${receiver.urls.statuspage}/incidents`, { incident: { name: 'x' } }, { authorization: 'OAuth other' })).status, 401);
    assert.equal(receiver.statuspageIncidents.size, 1);
  });

  test('an invalid incident is refused 422 naming the field; an unknown incident or page is 404', async () => {
    const response = await post(`${receiver.urls.statuspage}/incidents`, { incident: { message: 'x', status: 'down' } }, auth);
    assert.equal(response.status, 422);
    assert.deepEqual(last().problems, [
      'incident.message is not a documented field (the incident update text is incident.body)',
      'incident.name is required to create an incident',
      'incident.status must be one of investigating, identified, monitoring, resolved, scheduled, in_progress, verifying, completed, not "down"',
    ]);
    assert.equal((await post(`${receiver.urls.statuspage}/incidents/nope`, { incident: { status: 'resolved' } }, auth, 'PATCH')).status, 404);
    assert.equal((await post(`${receiver.url}/v1/pages/other/incidents`, { incident: { name: 'x' } }, auth)).status, 404);
  });

  test('metadata whose top-level values are objects is kept; the page lists its unresolved incidents with it', async () => {
    const created = await post(`${receiver.urls.statuspage}/incidents`, { incident: { name: 'open one', status: 'identified', metadata: { dr_runbooks: { workflow_id: 'wf-7' } } } }, auth);
    assert.equal(created.status, 201);
    const { id } = await created.json() as { id: string };
    const listed = await fetch(`${receiver.urls.statuspage}/incidents/unresolved?page=1&per_page=100`, { headers: auth });
    assert.equal(listed.status, 200);
    const incidents = await listed.json() as Array<{ id: string; status: string; metadata: unknown }>;
    assert.deepEqual(incidents.map((i) => [i.id, i.status, i.metadata]), [[id, 'identified', { dr_runbooks: { workflow_id: 'wf-7' } }]]);
    const flat = await post(`${receiver.urls.statuspage}/incidents`, { incident: { name: 'x', metadata: { workflow_id: 'wf-7' } } }, auth);
    assert.equal(flat.status, 422);
    assert.deepEqual(last().problems, ['incident.metadata.workflow_id must be an object: Statuspage wants every top-level metadata value to be an object']);
    await post(`${receiver.urls.statuspage}/incidents/${id}`, { incident: { status: 'resolved' } }, auth, 'PATCH');
  });
});

describe('signed generic webhook', () => {
  const body = JSON.stringify({ event: 'incident.opened', workflowId: 'dr-1' });
  const signed = (extra: Record<string, string> = {}, secret = 'whsec-test', at = Math.floor(Date.now() / 1000), payload = body) =>
    ({ 'x-dr-signature': signWebhookBody(secret, payload, at), 'x-dr-delivery': 'delivery-1', 'x-dr-event': 'incident.opened', ...extra });

  test('a correctly signed delivery is accepted; the same delivery again is marked a duplicate', async () => {
    const first = await post(receiver.urls.webhook, body, signed());
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { ok: true, duplicate: false });
    const again = await post(receiver.urls.webhook, body, signed());
    assert.deepEqual(await again.json(), { ok: true, duplicate: true });
    assert.equal(last().deliveryId, 'delivery-1');
  });

  test('while a secret rotates, one matching v1 of several is enough', async () => {
    const at = Math.floor(Date.now() / 1000);
    const response = await post(receiver.urls.webhook, body, { ...signed(), 'x-dr-signature': signWebhookBody(['new-secret', 'whsec-test'], body, at), 'x-dr-delivery': 'delivery-2' });
    assert.equal(response.status, 200);
  });

  test('a wrong secret, a changed body, an old timestamp or no signature is refused 401 with the reason', async () => {
    const cases: Array<[Record<string, string>, RegExp, string?]> = [
      [signed({}, 'other-secret'), /no v1 signature .* matches the body/],
      [signed(), /no v1 signature .* matches the body/, body.replace('dr-1', 'dr-2')],
      [signed({}, 'whsec-test', Math.floor(Date.now() / 1000) - 600), /outside ±300 s/],
      [{ 'x-dr-delivery': 'd', 'x-dr-event': 'e' }, /no x-dr-signature header/],
      [{ 'x-dr-signature': 'sha256=abc', 'x-dr-delivery': 'd', 'x-dr-event': 'e' }, /needs exactly one t=<Unix seconds>/],
      [{ 'x-dr-signature': 't=1,v1', 'x-dr-delivery': 'd', 'x-dr-event': 'e' }, /is not "t=<seconds>,v1=<hex>"/],
    ];
    for (const [headers, reason, payload] of cases) {
      const response = await post(receiver.urls.webhook, payload ?? body, headers);
      assert.equal(response.status, 401, reason.source);
      assert.match(last().problems.join('\n'), reason);
    }
  });

  test('a signed request without its delivery id is refused 400: retries could not be told apart', async () => {
    const headers: Record<string, string> = signed();
    delete headers['x-dr-delivery'];
    const response = await post(receiver.urls.webhook, body, headers);
    assert.equal(response.status, 400);
    assert.match(last().problems.join('\n'), /no x-dr-delivery header/);
  });
});

describe('Alertmanager webhook', () => {
  const notification = {
    version: '4', groupKey: '{}:{alertname="DatabaseConnectionFailure"}', truncatedAlerts: 0, status: 'firing', receiver: 'dr-runbooks',
    groupLabels: { alertname: 'DatabaseConnectionFailure' }, commonLabels: { alertname: 'DatabaseConnectionFailure', severity: 'critical' }, commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts: [{ status: 'firing', labels: { alertname: 'DatabaseConnectionFailure', severity: 'critical' }, annotations: {}, startsAt: '2025-08-11T12:00:00.000Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://127.0.0.1:9090/graph', fingerprint: 'abc123' }],
  };

  test('a version 4 notification is accepted; another shape is refused naming the field', async () => {
    assert.equal((await post(receiver.urls.alertmanager, notification)).status, 200);
    const response = await post(receiver.urls.alertmanager, { ...notification, version: '3', alerts: [{ ...notification.alerts[0], labels: {}, startsAt: 'yesterday' }] });
    assert.equal(response.status, 400);
    assert.deepEqual(last().problems, ['version must be "4", not "3"', 'alerts[0].labels.alertname is missing', 'alerts[0].startsAt must be an RFC 3339 time']);
  });
});

describe('failures on demand, for retry tests', () => {
  test('failNext answers the next N requests with the failure, then the target works again', async () => {
    receiver.failNext('slack', 2, { status: 429, retryAfterSeconds: 1 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await post(receiver.urls.slack, { text: `attempt ${i}` });
      statuses.push(response.status);
      if (i === 0) assert.equal(response.headers.get('retry-after'), '1');
    }
    assert.deepEqual(statuses, [429, 429, 200]);
    assert.deepEqual(receiver.requests.slice(-3).map((r) => r.injectedFailure ?? false), [true, true, false]);
  });

  test('an injected failure changes nothing: the PagerDuty alert is only recorded once accepted', async () => {
    receiver.failNext('pagerduty', 1);
    const event = { routing_key: routingKey, event_action: 'trigger', dedup_key: 'dr-retry', payload: { summary: 's', source: 'dr', severity: 'error' } };
    assert.equal((await post(receiver.urls.pagerduty, event)).status, 503);
    assert.equal(receiver.pagerdutyAlerts.has('dr-retry'), false);
    assert.equal((await post(receiver.urls.pagerduty, event)).status, 202);
    assert.deepEqual(receiver.pagerdutyAlerts.get('dr-retry')?.actions, ['trigger']);
  });

  test('goDown refuses connections until comeBack, on the same URL', async () => {
    await receiver.goDown();
    try {
      // The first attempt may meet the kept-alive connection the receiver just cut; the next is refused.
      await assert.rejects(post(receiver.urls.slack, { text: 'down' }), /fetch failed/);
      await assert.rejects(post(receiver.urls.slack, { text: 'down' }), (error: Error & { cause?: { code?: string } }) => error.cause?.code === 'ECONNREFUSED');
    } finally {
      await receiver.comeBack();
    }
    assert.equal((await post(receiver.urls.slack, { text: 'back' })).status, 200);
  });

  test('waitFor resolves on a later request and, on timeout, lists what did arrive', async () => {
    const waiting = receiver.waitFor((r) => r.target === 'slack' && r.body.includes('later'));
    await post(receiver.urls.slack, { text: 'later' });
    assert.equal((await waiting).status, 200);
    await assert.rejects(receiver.waitFor((r) => r.path === '/never', { timeoutMs: 50, what: 'request to /never' }), /got no request to \/never within 0.05 s; it got: POST \/slack/);
  });

  test('a path no service has is 404, with the reason recorded', async () => {
    assert.equal((await post(`${receiver.url}/v1/enqueue`, {})).status, 404);
    assert.deepEqual(last().problems, ['nothing is served at POST /v1/enqueue']);
  });
});
