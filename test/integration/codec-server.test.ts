import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { spawnServer, sleep, type ServerProcess } from '../../lib/child-process';
import { startCodecServer, type RunningCodecServer } from '../../lib/codec-server';
import { AesGcmPayloadCodec, staticKeyRing } from '../../lib/payload-codec';
import { freePort } from '../../lib/ports';
import { temporalBinary } from '../../stack/paths';
import { temporalDevServerArgs } from '../../stack/temporal-server';

const uiOrigin = 'http://127.0.0.1:8233';
const key = randomBytes(32);
const codec = new AesGcmPayloadCodec(staticKeyRing('ui-test-key', { 'ui-test-key': key }));
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** The request the Web UI makes (temporalio/ui data-encoder.ts): JSON body, X-Namespace, from the UI's origin. */
function uiRequest(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Origin: uiOrigin, ...headers },
    body: JSON.stringify(body),
  });
}

describe('codec server, answering the requests the Temporal Web UI sends', () => {
  let server: RunningCodecServer;
  const problems: string[] = [];

  before(async () => {
    server = await startCodecServer({ codec, allowedOrigins: [uiOrigin], namespaces: ['default'], onProblem: (p) => problems.push(`${p.status} ${p.message}`) });
  });
  after(() => server.close());

  test('listens on loopback only', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('CORS preflight from the UI origin: POST with Content-Type and X-Namespace allowed', async () => {
    const response = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: uiOrigin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' },
    });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), uiOrigin);
    assert.match(response.headers.get('access-control-allow-methods') ?? '', /POST/);
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const header of ['content-type', 'x-namespace', 'authorization']) assert.ok(allowed.includes(header), `${header} not allowed`);
    assert.equal(response.headers.get('vary'), 'Origin');
  });

  test('encode then decode, in the UI\'s JSON shape (base64 metadata and data), query string tolerated', async () => {
    const plain = { metadata: { encoding: b64('json/plain') }, data: b64(JSON.stringify({ gate: 'cutover', approver: 'bob', code: '492039' })) };
    const encoded = await uiRequest(`${server.url}/encode`, { payloads: [plain] });
    assert.equal(encoded.status, 200);
    assert.equal(encoded.headers.get('access-control-allow-origin'), uiOrigin);
    assert.equal(encoded.headers.get('cache-control'), 'no-store');
    const encodedBody = (await encoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    assert.equal(Buffer.from(encodedBody.payloads[0]?.metadata.encoding ?? '', 'base64').toString(), 'binary/encrypted');
    assert.ok(!Buffer.from(encodedBody.payloads[0]?.data ?? '', 'base64').includes('492039'));
    const decoded = await uiRequest(`${server.url}/decode?preserveStorageRefs=true`, encodedBody);
    assert.equal(decoded.status, 200);
    assert.deepEqual(await decoded.json(), { payloads: [plain] });
  });

  test('plain payloads and empty lists pass through decode', async () => {
    const plain = { metadata: { encoding: b64('binary/null') } };
    assert.deepEqual(await (await uiRequest(`${server.url}/decode`, { payloads: [plain] })).json(), { payloads: [plain] });
    assert.deepEqual(await (await uiRequest(`${server.url}/decode`, { payloads: [] })).json(), { payloads: [] });
  });

  test('refusals: other origins, other namespaces, no JSON, other methods and paths; each says why', async () => {
    const body = { payloads: [] };
    const cases: Array<[string, Promise<Response>, number, RegExp]> = [
      ['another origin', uiRequest(`${server.url}/decode`, body, { Origin: 'https://evil.example' }), 403, /origin https:\/\/evil.example may not use this codec server/],
      ['another namespace', uiRequest(`${server.url}/decode`, body, { 'X-Namespace': 'payments' }), 403, /does not serve namespace "payments"/],
      ['a form post', fetch(`${server.url}/decode`, { method: 'POST', headers: { 'Content-Type': 'text/plain', 'X-Namespace': 'default' }, body: '{}' }), 415, /Content-Type: application\/json/],
      ['not JSON', fetch(`${server.url}/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default' }, body: '{' }), 400, /not JSON/],
      ['no payloads array', uiRequest(`${server.url}/decode`, { payload: [] }), 400, /must be \{"payloads": \[...\]\}/],
      ['a payload that is not one', uiRequest(`${server.url}/decode`, { payloads: [{ metadata: { encoding: 5 } }] }), 400, /payloads\[0\] is not a Temporal payload/],
      ['GET', fetch(`${server.url}/decode`, { headers: { 'X-Namespace': 'default' } }), 405, /use POST/],
      ['another path', uiRequest(`${server.url}/decrypt`, body), 404, /use POST \/encode or POST \/decode/],
    ];
    for (const [what, request, status, message] of cases) {
      const response = await request;
      assert.equal(response.status, status, what);
      assert.match(((await response.json()) as { error: string }).error, message, what);
    }
    assert.ok(problems.length >= cases.length);
  });

  test('a payload encrypted with a key the server lacks gets 422 naming the key id (the UI then shows it raw)', async () => {
    const other = new AesGcmPayloadCodec(staticKeyRing('retired-2025', { 'retired-2025': randomBytes(32) }));
    const [encrypted] = await other.encode([defaultPayloadConverter.toPayload('secret')]);
    const json = { metadata: Object.fromEntries(Object.entries(encrypted?.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(encrypted?.data ?? []).toString('base64') };
    const response = await uiRequest(`${server.url}/decode`, { payloads: [json] });
    assert.equal(response.status, 422);
    assert.match(((await response.json()) as { error: string }).error, /key id "retired-2025"/);
  });

  test('a body over the limit is refused with 413', async () => {
    const small = await startCodecServer({ codec, allowedOrigins: [uiOrigin], maxBodyBytes: 1024 });
    try {
      const response = await uiRequest(`${small.url}/decode`, { payloads: [{ data: 'A'.repeat(4096) }] });
      assert.equal(response.status, 413);
    } finally {
      await small.close();
    }
  });
});

describe('codec server behind the real dev server\'s Web UI (--ui-codec-endpoint)', () => {
  let stateDir: string;
  let temporal: ServerProcess;
  let codecServer: RunningCodecServer;
  let uiUrl: string;
  let address: string;

  before(async () => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'dr-codec-ui-'));
    const [port, uiPort] = [await freePort(), await freePort()];
    uiUrl = `http://127.0.0.1:${uiPort}`;
    codecServer = await startCodecServer({ codec, allowedOrigins: [uiUrl] });
    const args = [...temporalDevServerArgs({ port, uiPort, namespace: 'default', dbFile: path.join(stateDir, 'temporal.db') }), '--ui-codec-endpoint', codecServer.url];
    temporal = spawnServer(temporalBinary(), args, path.join(stateDir, 'temporal.log'));
    address = `127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        const response = await fetch(`${uiUrl}/api/v1/namespaces/default`);
        if (response.ok) break;
      } catch {
        // not listening yet
      }
      if (i > 240) throw new Error('the dev server and its UI did not start within 60 s');
      await sleep(250);
    }
  });
  after(async () => {
    await temporal?.stop();
    await codecServer?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('the UI announces our endpoint, the history holds ciphertext, and the payload the UI fetches decodes', async () => {
    const settings = (await (await fetch(`${uiUrl}/api/v1/settings`)).json()) as { Codec?: { Endpoint?: string } };
    assert.equal(settings.Codec?.Endpoint, codecServer.url);

    const connection = await Connection.connect({ address });
    try {
      const client = new Client({ connection, namespace: 'default', dataConverter: { payloadCodecs: [codec] } });
      const input = { database: 'ledger', recoveryTarget: '2026-12-01T03:00:00Z' };
      await client.workflow.start('recoverFromServerFailure', { taskQueue: 'codec-test', workflowId: 'codec-ui-1', args: [input] });

      // What the UI's browser code gets from its own server, then sends to the codec endpoint.
      const history = (await (await fetch(`${uiUrl}/api/v1/namespaces/default/workflows/codec-ui-1/history`)).json()) as {
        history: { events: Array<{ workflowExecutionStartedEventAttributes?: { input: { payloads: unknown[] } } }> };
      };
      const started = history.history.events[0]?.workflowExecutionStartedEventAttributes;
      assert.ok(started, 'no WorkflowExecutionStarted event');
      const stored = started.input.payloads as Array<{ metadata: Record<string, string>; data: string }>;
      assert.equal(Buffer.from(stored[0]?.metadata.encoding ?? '', 'base64').toString(), 'binary/encrypted');
      assert.ok(!Buffer.from(stored[0]?.data ?? '', 'base64').includes('ledger'), 'plaintext in the stored history');

      const response = await fetch(`${codecServer.url}/decode`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Origin: uiUrl },
        body: JSON.stringify(started.input),
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('access-control-allow-origin'), uiUrl);
      const decoded = (await response.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
      assert.equal(Buffer.from(decoded.payloads[0]?.metadata.encoding ?? '', 'base64').toString(), 'json/plain');
      assert.deepEqual(JSON.parse(Buffer.from(decoded.payloads[0]?.data ?? '', 'base64').toString()), input);
      await client.workflow.getHandle('codec-ui-1').terminate('test done');
    } finally {
      await connection.close();
    }
  });
});
