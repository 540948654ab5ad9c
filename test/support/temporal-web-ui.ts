import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';

// Page objects for the Temporal Web UI 2.42.1 embedded in `temporal server start-dev` (CLI 1.5.1).
// Selectors are roles, labels and visible text, found by driving that UI; where the UI gives an element
// no accessible name (the CodeMirror JSON editor) we use the editor's own `data-language` attribute.

/** Debian's Chromium, installed by the bootstrap. We never download a browser. */
export const chromiumPath = '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(chromiumPath);
}

/** A test's `skip` where Chromium is missing: false, or why (naming the test it keeps from running). */
export function skipWithoutChromium(test: string): false | string {
  return chromiumAvailable() ? false : `${chromiumPath} is absent: install Debian's chromium (scripts/bootstrap.sh does) to run ${test}`;
}

export interface WebUiBrowser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile that is removed on close; every wait defaults to `timeoutMs`. */
export async function launchBrowser(options: { timeoutMs?: number } = {}): Promise<WebUiBrowser> {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'dr-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1400, height: 900 },
  });
  context.setDefaultTimeout(options.timeoutMs ?? 20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export interface WebUiWorkflowTarget {
  /** e.g. http://127.0.0.1:8233, as `startTemporalServer` returns it in `uiUrl`. */
  uiUrl: string;
  namespace: string;
  workflowId: string;
}

export interface StartWorkflowFromUiOptions extends WebUiWorkflowTarget {
  taskQueue: string;
  workflowType: string;
  /** One JSON value: the Start Workflow form takes a single payload. */
  input: unknown;
}

/**
 * Opens the namespace's workflow list, clicks "Start Workflow", fills the form (input as json/plain)
 * and submits. Resolves once the run's own page shows the workflow; returns its run id.
 */
export async function startWorkflowFromUi(page: Page, options: StartWorkflowFromUiOptions): Promise<{ runId: string; url: string }> {
  return withScreenshotOnFailure(page, `starting ${options.workflowType} "${options.workflowId}"`, async () => {
    await page.goto(`${options.uiUrl}/namespaces/${encodeURIComponent(options.namespace)}/workflows`);
    // The namespace loads after the shell renders: wait for the button, not for time.
    await page.getByRole('main').getByRole('button', { name: 'Start Workflow' }).click();
    const main = page.getByRole('main');
    await main.getByRole('heading', { name: 'Start a Workflow' }).waitFor();

    await main.getByLabel('Workflow ID').fill(options.workflowId);
    const taskQueue = main.getByLabel('Task Queue');
    await taskQueue.fill(options.taskQueue);
    await taskQueue.blur();
    // Leaving the field makes the UI look up the queue's pollers and insert a banner above the
    // submit button; clicking while that banner appears can miss the button, so let it settle first.
    // A queue nobody polls is allowed (the worker may come later), so either banner will do.
    await main.getByText(/Task Queue is (Active|Inactive)/).waitFor({ timeout: 10_000 }).catch(() => undefined);
    const workflowType = main.getByLabel('Workflow Type');
    await workflowType.fill(options.workflowType);
    await workflowType.blur();

    await fillJsonInput(main, options.input);

    const submit = main.getByRole('button', { name: 'Start Workflow' });
    await expectEnabled(submit, 'the Start Workflow button stayed disabled: the UI considers a field empty or the input not JSON');
    const startRequest = page.waitForRequest((r) => r.method() === 'POST' && r.url().includes(`/workflows/${encodeURIComponent(options.workflowId)}`), { timeout: 10_000 }).catch(() => undefined);
    await submit.click();

    const started = page.getByRole('link', { name: 'Workflow started successfully' });
    const failed = main.getByRole('alert').filter({ hasNotText: /Task Queue is/ });
    await started.or(failed).first().waitFor().catch(async (error: Error) => {
      throw new Error((await startRequest) ? `the UI sent the start request but showed neither success nor an error (${error.message.split('\n')[0]})` : 'clicking Start Workflow sent no request to the server');
    });
    if (!(await started.isVisible())) throw new Error(`the UI refused the start: ${(await failed.first().innerText()).replace(/\s+/g, ' ').trim()}`);
    const href = await started.getAttribute('href');
    const runId = href?.match(/\/workflows\/[^/]+\/([^/]+)\/history/)?.[1];
    if (!href || !runId) throw new Error(`the success message links to ${href ?? 'nothing'}, not to a run's history`);

    await page.goto(new URL(href, options.uiUrl).toString());
    await workflowHeading(page, options.workflowId).waitFor();
    return { runId: decodeURIComponent(runId), url: page.url() };
  });
}

export interface SignalWorkflowFromUiOptions extends WebUiWorkflowTarget {
  signalName: string;
  /** One JSON value, sent as the signal's single argument. */
  input: unknown;
}

/** Opens the workflow's page, More Actions → "Send a Signal", fills name + JSON input and submits. */
export async function signalWorkflowFromUi(page: Page, options: SignalWorkflowFromUiOptions): Promise<void> {
  await withScreenshotOnFailure(page, `sending signal "${options.signalName}" to "${options.workflowId}"`, async () => {
    await openWorkflow(page, options);
    await page.getByRole('button', { name: 'More Actions' }).click();
    await page.getByRole('menuitem', { name: 'Send a Signal' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send a Signal' });
    await dialog.waitFor();

    // 2.42 lists the signals the workflow declares (from its metadata query) in a dropdown with a
    // "Custom" entry that reveals a free-text field; a workflow that cannot answer gets the field alone.
    const nameField = dialog.getByRole('textbox', { name: 'Signal name' });
    const nameDropdown = dialog.getByRole('button', { name: 'Select a signal' });
    await nameField.or(nameDropdown).first().waitFor();
    if (await nameDropdown.isVisible()) {
      await nameDropdown.click();
      const declared = dialog.getByRole('option', { name: options.signalName, exact: true });
      const custom = dialog.getByRole('option', { name: /^Custom/ });
      await declared.or(custom).first().waitFor();
      if (await declared.isVisible()) {
        await declared.click();
      } else {
        await custom.click();
        await nameField.fill(options.signalName);
      }
    } else {
      await nameField.fill(options.signalName);
    }

    await fillJsonInput(dialog, options.input);
    const submit = dialog.getByRole('button', { name: 'Submit' });
    await expectEnabled(submit, 'the Submit button stayed disabled: the UI considers the signal name empty or the input not JSON');
    await submit.click();
    // The dialog closes on success and stays open with the server's error otherwise.
    await dialog.waitFor({ state: 'hidden' }).catch(async () => {
      throw new Error(`the signal dialog did not close; it shows: ${(await dialog.innerText()).replace(/\s+/g, ' ').trim()}`);
    });
  });
}

/** The statuses the UI shows in the badge beside the workflow id. */
export const workflowStatuses = ['Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'Timed Out', 'Continued as New'] as const;
export type WebUiWorkflowStatus = (typeof workflowStatuses)[number];

/**
 * Loads the workflow's page afresh and returns the status badge's text. With `until`, reloads until
 * the badge shows one of those statuses (the page of a running workflow does not always refresh itself).
 */
export async function readWorkflowStatusFromUi(page: Page, options: WebUiWorkflowTarget & { until?: WebUiWorkflowStatus[]; timeoutMs?: number }): Promise<WebUiWorkflowStatus> {
  return withScreenshotOnFailure(page, `reading the status of "${options.workflowId}"`, async () => {
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    for (;;) {
      await openWorkflow(page, options);
      const badge = page.getByRole('main').locator('header').getByText(new RegExp(`^\\s*(${workflowStatuses.join('|')})\\s*$`, 'i')).first();
      await badge.waitFor();
      const text = (await badge.innerText()).trim();
      const status = workflowStatuses.find((s) => s.toLowerCase() === text.toLowerCase());
      if (!status) throw new Error(`the status badge shows "${text}", which is not a workflow status`);
      if (!options.until || options.until.includes(status)) return status;
      if (Date.now() > deadline) throw new Error(`the UI still shows ${status}, not ${options.until.join(' or ')}`);
      await page.waitForTimeout(500); // polling a page we reload ourselves; there is no event to wait on
    }
  });
}

/**
 * The text of the workflow page's "Input" or "Result" panel, as the UI shows it: pretty JSON for
 * inputs and results, the failure's attributes for a failed run. Not always JSON (a stack trace is
 * shown with real line breaks), so match on it; `JSON.parse` it only for a completed run's result.
 * The panel's editor renders what is near its viewport, so keep it to payloads of a few dozen lines.
 */
export async function readWorkflowPanelFromUi(page: Page, options: WebUiWorkflowTarget & { panel: 'Input' | 'Result' }): Promise<string> {
  return withScreenshotOnFailure(page, `reading the ${options.panel} of "${options.workflowId}"`, async () => {
    await openWorkflow(page, options);
    // The innermost block holding the heading is the panel; its read-only JSON editor is a textbox.
    const heading = page.getByRole('heading', { level: 2, name: options.panel, exact: true });
    const panel = page.getByRole('main').locator('div').filter({ has: heading }).last();
    const editor = panel.locator('[role="textbox"][data-language="json"]');
    await editor.waitFor();
    // The UI shows a payload as stored until its codec call answers: wait for that call (a codec that
    // never answers still leaves the encrypted payload here, and the caller's check fails on it).
    const read = async () => (await editor.innerText()).replace(/\u00a0/g, ' ');
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      const text = await read();
      if (!text.includes('"encryption-cipher"')) return text;
    }
    return read();
  });
}

async function openWorkflow(page: Page, target: WebUiWorkflowTarget): Promise<void> {
  // Without a run id the UI redirects to the latest run's history.
  await page.goto(`${target.uiUrl}/namespaces/${encodeURIComponent(target.namespace)}/workflows/${encodeURIComponent(target.workflowId)}`);
  await workflowHeading(page, target.workflowId).waitFor();
}

function workflowHeading(page: Page, workflowId: string): Locator {
  return page.getByRole('main').getByRole('heading', { level: 1, name: workflowId, exact: true });
}

/** Types one JSON value into the form's CodeMirror editor, selects json/plain, and reads it back. */
async function fillJsonInput(scope: Locator, value: unknown): Promise<void> {
  const json = JSON.stringify(value, null, 2);
  if (json === undefined) throw new Error('the input must be a JSON value (got undefined)');
  await scope.getByRole('radio', { name: 'json/plain' }).check();
  const editor = scope.locator('[role="textbox"][data-language="json"]');
  await editor.fill(json);
  // CodeMirror auto-closes brackets and quotes when typing; make sure what it holds is what we meant.
  const typed = (await editor.innerText()).replace(/\u00a0/g, ' ');
  let parsed: unknown;
  try {
    parsed = JSON.parse(typed);
  } catch {
    throw new Error(`the input editor holds text that is not JSON: ${typed}`);
  }
  if (!isDeepStrictEqual(parsed, value)) throw new Error(`the input editor holds ${typed}, not ${json}`);
}

async function expectEnabled(button: Locator, explanation: string): Promise<void> {
  await button.waitFor();
  for (let i = 0; i < 20 && (await button.isDisabled()); i++) await button.page().waitForTimeout(250);
  if (await button.isDisabled()) throw new Error(explanation);
}

/** Runs one UI action; on failure, saves a screenshot and names it in the error. */
async function withScreenshotOnFailure<T>(page: Page, action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const file = path.join(os.tmpdir(), `dr-web-ui-${Date.now()}.png`);
    const saved = await page.screenshot({ path: file, fullPage: true }).then(() => true, () => false);
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`Web UI: ${action} failed: ${message}${saved ? ` (screenshot: ${file}; page ${page.url()})` : ''}`, { cause: error });
  }
}
