import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { RunbookResult } from '../../contracts/runbook-status';
import { freePort } from '../../lib/ports';
import { temporalBinary } from '../../stack/paths';
import { createAdapters } from '../../worker/adapters';
import { loadWorkerConfig } from '../../worker/config';
import { dataConverterFor, payloadCodecFor } from '../../worker/payload-encryption';
import { createRunbookWorker } from '../../worker/worker';
import { startTestStack } from '../support/stack';
import { launchBrowser, readWorkflowPanelFromUi, readWorkflowStatusFromUi, skipWithoutChromium, startWorkflowFromUi, type WebUiBrowser } from '../support/temporal-web-ui';

// Payloads encrypted at rest (issue 11): the worker and every client encode with AES-256-GCM (a key in the
// stack's secret store); the Web UI shows the decoded input and result through the codec server
// (`--ui-codec-endpoint`), while the history as the server stores it (`temporal workflow show --output
// json`, no codec) holds ciphertext: no field of the input in plain text. Real dev server, UI, worker, Chromium.
const skip = skipWithoutChromium('the Web UI test');

describe('Temporal Web UI with encrypted payloads', { skip }, () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let browser: WebUiBrowser;
  let connection: NativeConnection;
  let clientConnection: Connection;
  let client: Client;
  let stopWorker: () => Promise<void>;
  const taskQueue = `web-ui-codec-${randomUUID()}`;

  before(async () => {
    stack = await startTestStack({ temporalUiPort: await freePort(), encryptPayloads: true });
    const config = loadWorkerConfig(stack.configFile);
    assert.ok(config.payloadEncryption, 'the stack encrypts payloads');
    connection = await NativeConnection.connect({ address: stack.temporal.address });
    const { worker, run } = await createRunbookWorker({ connection, namespace: stack.temporal.namespace, taskQueue, config });
    const running = run();
    stopWorker = async () => {
      worker.shutdown();
      await running.catch(() => undefined);
    };
    clientConnection = await Connection.connect({ address: stack.temporal.address });
    client = new Client({ connection: clientConnection, namespace: stack.temporal.namespace, dataConverter: dataConverterFor(payloadCodecFor(config, createAdapters(config).secrets)) });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stopWorker?.();
    await connection?.close();
    await clientConnection?.close();
    await stack?.stop();
  });

  test('a runbook started from the UI form: the UI shows its decoded input and result; the stored history holds no plaintext input field', { timeout: 120_000 }, async () => {
    const ui = { uiUrl: stack.temporal.uiUrl!, namespace: stack.temporal.namespace };
    const workflowId = `web-ui-codec-${randomUUID()}`;
    const marker = `carol-${randomUUID().slice(0, 8)}`;
    // A healthy primary is never failed over: the runbook checks twice and completes.
    const input = { incidentId: 'INC-CODEC-7', startedBy: marker, checks: 2, checkIntervalSeconds: 1, checkTimeoutSeconds: 2 };
    const { runId } = await startWorkflowFromUi(browser.page, { ...ui, workflowId, taskQueue, workflowType: 'recoverFromServerFailure', input });
    const result = (await client.workflow.getHandle(workflowId, runId).result()) as RunbookResult<{ failover: boolean }>;
    assert.equal(result.verdict, 'completed', result.verdictDetail);
    assert.equal(result.startedBy, marker, 'the worker decoded what the UI encoded');

    assert.equal(await readWorkflowStatusFromUi(browser.page, { ...ui, workflowId, until: ['Completed', 'Failed'] }), 'Completed');
    assert.deepEqual(JSON.parse(await readWorkflowPanelFromUi(browser.page, { ...ui, workflowId, panel: 'Input' })), input, 'the UI shows the decoded input');
    assert.match(await readWorkflowPanelFromUi(browser.page, { ...ui, workflowId, panel: 'Result' }), new RegExp(`"startedBy": "${marker}"`), 'and the decoded result');

    // What the server stores, read without the codec.
    const shown = execFileSync(temporalBinary(), ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', stack.temporal.address, '--namespace', stack.temporal.namespace], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const history = JSON.parse(shown) as { events: Array<{ eventType: string; workflowExecutionStartedEventAttributes?: { input: { payloads: Array<{ metadata: Record<string, string>; data: string }> } } }> };
    const started = history.events.find((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED')!.workflowExecutionStartedEventAttributes!;
    const payload = started.input.payloads[0]!;
    assert.equal(Buffer.from(payload.metadata.encoding!, 'base64').toString(), 'binary/encrypted');
    assert.equal(Buffer.from(payload.metadata['encryption-key-id']!, 'base64').toString(), 'local-1');
    // Every base64 value of the history decoded too: the input's values and field names appear nowhere.
    const decoded = [shown, ...[...shown.matchAll(/"([A-Za-z0-9+/]{8,}={0,2})"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('latin1'))].join('\n');
    for (const plain of [marker, 'startedBy', 'checkIntervalSeconds', 'checkTimeoutSeconds']) assert.ok(!decoded.includes(plain), `no "${plain}" in the stored history`);
  });
});
