import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { renderKpisHtml } from '../../client/kpis-html';
import { computeKpis, type Kpis } from '../../contracts/kpis';
import { DrEnvironment } from '../../contracts/search-attributes';
import { formatDuration } from '../../contracts/report';
import { startSteadyWriter } from '../../demo/steady-writer';
import type { DrillResult } from '../../workflows/run-drill';
import { startScenarioStack, type ScenarioStack } from '../support/scenario-stack';
import { launchBrowser, skipWithoutChromium } from '../support/temporal-web-ui';

// `dr kpis` after real drills on the embedded stack: three runDrill runs (the drill policy approves their
// gates), the restore test's runs counted through visibility, the figures read back from the published
// reports by the CLI, and the --html page opened in Debian's Chromium.
const root = path.resolve(__dirname, '../..');
const drBinary = path.join(root, 'client', 'bin', 'dr.js');
const noChromium = skipWithoutChromium('the KPI page test');
let s: ScenarioStack;
let out: string;
const drills: DrillResult[] = [];

before(async () => {
  out = mkdtempSync(path.join(os.tmpdir(), 'dr-kpis-'));
  s = await startScenarioStack();
  const fast = { checks: 2, checkIntervalSeconds: 1, checkTimeoutSeconds: 2 };
  // Production keeps taking payments while it is drilled: the drills' validation wants recent transactions.
  const writer = startSteadyWriter({ connectionString: s.productionUrl, ratePerSecond: 10 });
  // A point-in-time drill restores to 5 s before it starts: the writes must reach further back than that.
  await new Promise((r) => setTimeout(r, 8000));
  try {
    // The cheapest drills: two point-in-time restores and one restore of the latest backup.
    for (const [i, args] of [{ scenario: 'accidental-deletion' }, { scenario: 'server-failure', ...fast }, { scenario: 'accidental-deletion', incidentId: 'DRILL-KPI-3' }].entries()) {
      drills.push((await s.client.workflow.execute('runDrill', { taskQueue: s.taskQueue, workflowId: `drill-kpi-${i}-${Date.now()}`, args: [{ ...args, startedBy: 'schedule:kpi-test' }] })) as DrillResult);
    }
  } finally {
    await writer.stop();
  }
  // The backup restore test's workflow type, closed without a worker: the recovery-test figure counts it by status
  // (in its environment, which the backup schedule sets at start, as here).
  const restoreTest = await s.client.workflow.start('backupWithBaseline', { taskQueue: 'kpi-test-no-worker', workflowId: `restore-test-${Date.now()}`, args: [{}], typedSearchAttributes: [{ key: DrEnvironment, value: 'local' }] });
  await restoreTest.terminate('no worker runs restore tests in this test');
});
after(async () => {
  await s?.stop();
  if (out) rmSync(out, { recursive: true, force: true });
});

function dr(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [drBinary, ...args], {
      cwd: root,
      timeout: 60_000,
      env: { ...process.env, TEMPORAL_ADDRESS: s.stack.temporal.address, TEMPORAL_NAMESPACE: s.stack.temporal.namespace, DR_TASK_QUEUE: s.taskQueue, DR_OBJECT_STORE_DIR: s.config.objectStore!.directory },
    }, (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** `dr kpis --json` once visibility has caught up with the closed runs. */
async function kpisWhenVisible(...args: string[]): Promise<Kpis> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const run = await dr('kpis', '--json', ...args);
    assert.equal(run.code, 0, run.stderr);
    const kpis = JSON.parse(run.stdout) as Kpis;
    if ((kpis.drills.length >= drills.length && kpis.recoveryTests.runs >= 1) || Date.now() > deadline) return kpis;
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('three drills on the embedded stack: dr kpis shows each one\'s RTO and RPO against its objectives, with the runs each figure counts', async () => {
  assert.equal(drills.length, 3);
  for (const d of drills) assert.equal(d.passed, true, `${d.scenario}: ${JSON.stringify(d.objectives)}`);
  const kpis = await kpisWhenVisible('--since', '1h', '--environment', 'local');
  assert.deepEqual(kpis.drills.map((d) => d.workflowId).sort(), drills.map((d) => d.runbookWorkflowId).sort(), 'one row per drill, read from its runbook\'s report');
  for (const d of drills) {
    const row = kpis.drills.find((k) => k.workflowId === d.runbookWorkflowId)!;
    assert.equal(row.scenario, d.scenario);
    assert.equal(row.rto.achievedSeconds, d.objectives.rto.achievedSeconds);
    assert.equal(row.rto.objectiveSeconds, d.objectives.rto.objectiveSeconds);
    assert.equal(row.rto.met, true);
    assert.equal(row.rpo.achievedSeconds, d.objectives.rpo.achievedSeconds);
    assert.equal(row.rpo.objectiveSeconds, d.objectives.rpo.objectiveSeconds);
    assert.equal(row.passed, true);
  }
  assert.ok(drills.every((d) => d.objectives.rto.achievedSeconds! > 0), 'every drill measured an RTO');
  assert.deepEqual(kpis.drillSuccess, { succeeded: 3, runs: 3, rate: 1 });
  assert.deepEqual(kpis.rto, { met: 3, missed: 0, unjudged: 0 });
  assert.deepEqual(kpis.mttr, { runs: 0, notRecovered: 0 }, 'drills are not incidents');
  assert.deepEqual(kpis.recoveryTests, { succeeded: 0, runs: 1, rate: 0, byStatus: { Terminated: 1 } });
  assert.deepEqual(kpis.backups, { succeeded: 0, runs: 1, rate: 0, byStatus: { Terminated: 1 } }, 'terminated before it took its backup');

  const text = await dr('kpis', '--since', '1h');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /Drill success: 100 % \(3 of 3\)/);
  assert.match(text.stdout, /Recovery-test success \(backup restore tests\): 0 % \(0 of 1\) — terminated 1/);
  for (const d of drills) {
    const line = text.stdout.split('\n').find((l) => l.includes(d.runbookWorkflowId)) ?? '';
    assert.ok(line.includes(`RTO ${formatDuration(d.objectives.rto.achievedSeconds!)} of ${formatDuration(d.objectives.rto.objectiveSeconds)} met`), line);
    if (d.objectives.rpo.achievedSeconds !== undefined) assert.ok(line.includes(`RPO ${formatDuration(d.objectives.rpo.achievedSeconds)} of ${formatDuration(d.objectives.rpo.objectiveSeconds)} met`), line);
  }

  const elsewhere = await dr('kpis', '--json', '--since', '1h', '--environment', 'staging');
  assert.equal((JSON.parse(elsewhere.stdout) as Kpis).drills.length, 0, 'another environment has none of them');
  const bad = await dr('kpis', '--since', 'yesterday-ish');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--since: "yesterday-ish" must be a duration back from now/);
  const backwards = await dr('kpis', '--since', '1h', '--until', '2h');
  assert.equal(backwards.code, 2);
  assert.match(backwards.stderr, /--since: .* must be before --until/);
});

test('the --html page renders in Chromium: one RTO and one RPO point per drill, the objective lines, no console errors, nothing fetched', { skip: noChromium }, async () => {
  const file = path.join(out, 'kpis.html');
  await kpisWhenVisible('--since', '1h');
  const run = await dr('kpis', '--since', '1h', '--html', file);
  assert.equal(run.code, 0, run.stderr);
  const browser = await launchBrowser();
  try {
    const errors: string[] = [];
    const requests: string[] = [];
    browser.page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
    browser.page.on('pageerror', (e) => errors.push(e.message));
    browser.page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
    await browser.page.goto(pathToFileURL(file).href);
    const chart = browser.page.locator('svg#kpi-chart');
    await chart.waitFor();
    const ids = (series: string) => browser.page.locator(`svg#kpi-chart circle.point.${series}`).evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-workflow-id')));
    assert.deepEqual((await ids('rto')).sort(), drills.map((d) => d.runbookWorkflowId).sort());
    assert.deepEqual((await ids('rpo')).sort(), drills.filter((d) => d.objectives.rpo.achievedSeconds !== undefined).map((d) => d.runbookWorkflowId).sort());
    assert.ok(await browser.page.locator('svg#kpi-chart line.objective.rto').count() >= 1);
    assert.ok(await browser.page.locator('svg#kpi-chart line.objective.rpo').count() >= 1);
    const box = await chart.boundingBox();
    assert.ok(box && box.width > 300 && box.height > 200, `the chart is drawn (${JSON.stringify(box)})`);
    // Every point lies inside the plot, where a person can see it.
    const inside = await browser.page.locator('svg#kpi-chart circle.point').evaluateAll((nodes) => nodes.every((n) => { const [cx, cy] = [Number(n.getAttribute('cx')), Number(n.getAttribute('cy'))]; return cx >= 70 && cx <= 740 && cy >= 20 && cy <= 290; }));
    assert.ok(inside);
    assert.match(await browser.page.locator('#kpi-figures').innerText(), /Drill success\s+100 % \(3 of 3\)/);
    assert.equal(await browser.page.locator('#kpi-drills tbody tr').count(), 3);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
  } finally {
    await browser.close();
  }
});

test('a hostile scenario name or incident id is text on the page: no script runs, no element is injected', { skip: noChromium }, async () => {
  const at = new Date().toISOString();
  const kpis = computeKpis({
    since: at, until: at, recoveryTests: {}, backups: {},
    runs: [{ workflowId: 'w"><script>alert(1)</script>', scenario: '<img src=x onerror="alert(2)">', environment: 'production', incidentId: "</title><script>alert(3)</script>", mode: 'drill', verdict: 'completed', declaredAt: at, rto: { achievedSeconds: 5, objectiveSeconds: 60, cutoverVerifiedAt: at }, rpo: { achievedSeconds: 1, objectiveSeconds: 60 } }],
  });
  const file = path.join(out, 'hostile.html');
  writeFileSync(file, renderKpisHtml(kpis));
  const browser = await launchBrowser();
  try {
    const dialogs: string[] = [];
    browser.page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
    await browser.page.goto(pathToFileURL(file).href);
    await browser.page.locator('svg#kpi-chart').waitFor();
    assert.equal(await browser.page.locator('script, img').count(), 0);
    assert.match(await browser.page.locator('#kpi-drills').innerText(), /<img src=x onerror="alert\(2\)">/);
    assert.equal(await browser.page.locator('svg#kpi-chart circle.point.rto').getAttribute('data-workflow-id'), 'w"><script>alert(1)</script>');
    assert.deepEqual(dialogs, []);
    assert.ok(readFileSync(file, 'utf8').length > 0);
  } finally {
    await browser.close();
  }
});
