import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createConsoleNotifier } from '../../activities/adapters/local/console-notifier';
import type { ObjectStore } from '../../activities/ports/object-store';
import { createReportActivities } from '../../activities/reports';
import { loadWorkerConfig, type WorkerConfig } from '../../worker/config';
import { createDatabaseConnections } from '../../worker/database-connections';
import { createAdapters } from '../../worker/adapters';
import type { RunbookResult, RunbookStatus } from '../../contracts/runbook-status';
import { fixtureActivities, fixtureBundle, newRecorder } from '../support/fixture-runbook';
import { startTestStack } from '../support/stack';
import { createMemoryObjectStore } from '../support/memory-object-store';

// The `dr` binary as a script would use it, on the real dev server with a real worker running the fixture
// runbook (real plan, audit trail and notifier; fake steps). Every action goes through a `dr` subprocess;
// only `dr start fixture` uses a launcher that adds the fixture to the scenario table first.
const root = path.join(__dirname, '..', '..');
const drBinary = path.join(root, 'client', 'bin', 'dr.js');
const drWithFixture = path.join(root, 'test', 'support', 'dr-with-fixture.ts');
const taskQueue = 'dr-cli-test';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let config: WorkerConfig;
let databases: ReturnType<typeof createDatabaseConnections>;
let connection: NativeConnection;
let worker: Worker;
let workerRun: Promise<void>;
let storeDir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runNode(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, {
      cwd: root,
      timeout: 60_000,
      env: { ...process.env, TEMPORAL_ADDRESS: stack.temporal.address, TEMPORAL_NAMESPACE: stack.temporal.namespace, DR_TASK_QUEUE: taskQueue, DR_WEB_UI_URL: 'http://ui.test:8233/', DR_OBJECT_STORE_DIR: '', ...env },
    }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const dr = (...args: string[]) => runNode([drBinary, ...args]);
const drFixture = (...args: string[]) => runNode(['--import', 'tsx', drWithFixture, ...args]);

async function eventually<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  let last: unknown;
  while (Date.now() < deadline) {
    last = await attempt().catch((error) => error);
    if (last !== undefined && !(last instanceof Error)) return last as T;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

async function statusJson(workflowId: string): Promise<RunbookStatus> {
  const run = await dr('status', workflowId, '--json');
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as RunbookStatus;
}

async function startFixture(incident: string): Promise<string> {
  const started = await drFixture('start', 'fixture', '--incident', incident, '--as', 'carol');
  assert.equal(started.code, 0, started.stderr);
  const id = /^started (\S+)$/m.exec(started.stdout)?.[1];
  assert.ok(id, started.stdout);
  assert.match(started.stdout, new RegExp(`^Web UI: http://ui\\.test:8233/namespaces/${stack.temporal.namespace}/workflows/${id}/[0-9a-f-]{36}/history$`, 'm'));
  await eventually('the cutover gate to open', async () => ((await statusJson(id)).openGates.some((g) => g.gate === 'cutover') ? true : undefined));
  return id;
}

async function listed(args: string[], workflowId: string, present: boolean): Promise<Array<Record<string, string>>> {
  return eventually(`dr ${args.join(' ')} to ${present ? 'list' : 'drop'} ${workflowId}`, async () => {
    const run = await dr('list', ...args, '--json');
    assert.equal(run.code, 0, run.stderr);
    const rows = JSON.parse(run.stdout) as Array<Record<string, string>>;
    return rows.some((r) => r.workflowId === workflowId) === present ? rows : undefined;
  });
}

before(async () => {
  stack = await startTestStack();
  config = { ...loadWorkerConfig(stack.configFile) };
  config.approvals = { ...config.approvals, gates: { cutover: { approvers: ['alice', 'carol'], quorum: 1 } }, incidentCommanders: ['dave'] };
  databases = createDatabaseConnections(config, createAdapters(config).secrets);
  const real = createActivities({ databases, auditDatabase: config.audit!.database, runbookPlan: config, notifier: createConsoleNotifier(() => undefined), objectStore: createMemoryObjectStore() });
  const { doWork, undoWork, readNewestCommit } = fixtureActivities(newRecorder());
  connection = await NativeConnection.connect({ address: stack.temporal.address });
  worker = await Worker.create({ connection, namespace: stack.temporal.namespace, taskQueue, workflowBundle: await fixtureBundle(), activities: { ...real, doWork, undoWork, readNewestCommit } });
  workerRun = worker.run();
  storeDir = mkdtempSync(path.join(os.tmpdir(), 'dr-cli-store-'));
});

after(async () => {
  if (worker) {
    worker.shutdown();
    await workerRun;
  }
  await connection?.close();
  await databases?.close();
  await stack?.stop();
  if (storeDir) rmSync(storeDir, { recursive: true, force: true });
});

test('a runbook driven by dr: status shows the open gate, refusals exit 3 with one line, an approver completes it, report and list', async () => {
  const id = await startFixture('INC-41');

  const waiting = await statusJson(id);
  assert.equal(waiting.scenario, 'fixture');
  assert.equal(waiting.phase, 'waiting-for-approval');
  assert.deepEqual(waiting.openGates.map((g) => [g.gate, g.stillMayApprove, typeof g.deadlineAt]), [['cutover', ['alice'], 'string']]);
  const text = await dr('status', id);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^phase: waiting-for-approval · current step: approval gate "cutover"$/m);
  assert.match(text.stdout, /^ {2}gate "cutover": 0\/1 approvals; may still approve: alice; deadline \S+$/m);
  assert.match(text.stdout, /^RTO: .+ of 1 h objective \(clock running/m);
  assert.match(text.stdout, /succeeded {2}restore to new instance — restored into restore-to-new-instance-1$/m);
  await listed([], id, true);

  // A log-style watch (stdout is a pipe, not a TTY) runs beside the approvals and prints each change once.
  const watching = dr('status', id, '--watch', '--interval', '0.3');

  const notApprover = await dr('approve', id, '--gate', 'cutover', '--as', 'bob');
  assert.equal(notApprover.code, 3, notApprover.stderr);
  assert.equal(notApprover.stderr, 'dr: refused: "bob" is not on the approver list of gate "cutover" (alice, carol)\n');
  const starter = await dr('approve', id, '--gate', 'cutover', '--as', 'carol');
  assert.equal(starter.code, 3, starter.stderr);
  assert.equal(starter.stderr, 'dr: refused: two-person rule: "carol" started this runbook and may not approve gate "cutover"\n');
  const approved = await dr('approve', id, '--gate', 'cutover', '--as', 'alice', '--comment', 'validation green');
  assert.equal(approved.code, 0, approved.stderr);
  assert.match(approved.stdout, /^gate "cutover" approved \(1 approval\(s\): alice\): the runbook continues$/m);

  const watched = await watching;
  assert.equal(watched.code, 0, watched.stderr);
  const lines = watched.stdout.trimEnd().split('\n');
  assert.equal(lines.at(-1), 'verdict: COMPLETED');
  assert.equal(new Set(lines).size, lines.length, `each change printed once:\n${watched.stdout}`);
  assert.ok(lines.some((l) => /approved +gate cutover: approve from alice — validation green$/.test(l)), watched.stdout);

  const done = await statusJson(id);
  assert.equal(done.phase, 'finished');
  assert.equal(done.verdict, 'completed');
  // The verdict is known before the workflow closes (it still writes its report): wait until it has closed.
  await listed([], id, false);
  const late = await dr('approve', id, '--gate', 'cutover', '--as', 'alice');
  assert.equal(late.code, 3);
  assert.equal(late.stderr, 'dr: refused: the runbook has already ended (completed)\n');

  const report = await dr('report', id);
  assert.equal(report.code, 0, report.stderr);
  assert.equal(report.stdout.split('\n')[0], '# DR runbook report: fixture · INC-41 · COMPLETED');
  assert.match(report.stdout, /^## Timeline$/m);
  for (const step of ['take safety snapshot', 'restore to new instance', 'validate restored data', 'gate cutover', 'switch production to new instance', 'cutover verified']) {
    assert.match(report.stdout, new RegExp(`^\\| \\d+ \\| ${step} \\| \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ \\| `, 'm'), step);
  }
  // The report says how each vote was proven (here: this environment's config asks for no proof).
  assert.match(report.stdout, /^ {2}- approved by alice at \S+ \S+ \(no proof\): "validation green"$/m);
  assert.match(report.stdout, /^- RTO: .+ \(objective: 1 h\) ✅/m);
  const reportJson = await dr('report', id, '--format', 'json');
  assert.equal(reportJson.code, 0, reportJson.stderr);
  assert.equal((JSON.parse(reportJson.stdout) as { verdict: string }).verdict, 'completed');

  // A published report is preferred to rendering one.
  const result = (JSON.parse((await dr('status', id, '--json')).stdout)) as RunbookResult;
  await createReportActivities(directoryWriter(storeDir)).publishRunbookReport({ workflowId: id, result, extras: { reconciliation: ['User Accounts: 15,234 (baseline: 15,230) ✅'] } });
  const published = await dr('report', id, '--store-dir', storeDir);
  assert.equal(published.code, 0, published.stderr);
  assert.match(published.stdout, /^- User Accounts: 15,234 \(baseline: 15,230\) ✅$/m);

  const all = await listed(['--all', '--scenario', 'fixture'], id, true);
  assert.deepEqual(
    (({ scenario, incidentId, environment, drStatus }) => ({ scenario, incidentId, environment, drStatus }))(all.find((r) => r.workflowId === id)!),
    { scenario: 'fixture', incidentId: 'INC-41', environment: 'local', drStatus: 'completed' },
  );
  await listed([], id, false);
  const otherScenario = await dr('list', '--all', '--scenario', 'server-failure', '--json');
  assert.deepEqual(JSON.parse(otherScenario.stdout), []);
});

test('dr abort ends a runbook waiting at its gate as aborted; a second abort is refused', async () => {
  const id = await startFixture('INC-42');
  // On a terminal (a pseudo-TTY from script(1)) --watch redraws the whole screen on each refresh.
  const onTerminal = watchOnTerminal(id);
  await eventually('the watch to draw the waiting runbook', async () => (onTerminal.output().includes('open gates:') ? true : undefined));
  const aborted = await dr('abort', id, '--as', 'dave', '--reason', 'wrong incident');
  assert.equal(aborted.code, 0, aborted.stderr);
  assert.match(aborted.stdout, /^abort accepted: /);
  const watched = await onTerminal.done;
  assert.equal(watched.code, 1, 'a watch of a runbook that did not complete exits 1');
  assert.match(watched.stdout, /ended aborted/);
  const screens = watched.stdout.split('\x1b[H\x1b[2J');
  assert.ok(screens.length >= 3, `redrawn at least twice: ${JSON.stringify(watched.stdout.slice(0, 400))}`);
  assert.match(screens[1]!, /open gates:/);
  assert.match(screens.at(-1)!, /verdict: ABORTED — aborted by dave: wrong incident/);
  assert.match(screens.at(-1)!, /\r?\nfinished\r?\n/);
  const status = await statusJson(id);
  assert.equal(status.verdict, 'aborted');
  assert.equal(status.verdictDetail, 'aborted by dave: wrong incident');
  assert.deepEqual(status.compensations.map((c) => [c.name, c.outcome]), [['delete new instance', 'succeeded'], ['delete safety snapshot', 'succeeded']]);
  const again = await dr('abort', id, '--as', 'dave', '--reason', 'again');
  assert.equal(again.code, 3);
  assert.equal(again.stderr.split('\n').length, 2, 'one line');
});

test('bad input exits 2 naming the field and starts nothing; a missing flag is a usage error; an unreachable server exits 4', async () => {
  const bad = await dr('start', 'assess', '--database', 'Prod DB', '--workflow-id', 'never-started');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^dr: invalid input for assess \(assessDatabaseHealth\): database \(--database\): must be a config name/);
  const inputFile = path.join(storeDir, 'bad-input.json');
  writeFileSync(inputFile, JSON.stringify({ incidentId: 'INC 43', startedBy: 'carol', mode: 'live' }));
  const badFile = await drFixture('start', 'fixture', '--input', inputFile, '--workflow-id', 'never-started');
  assert.equal(badFile.code, 2);
  assert.match(badFile.stderr, /incidentId \(--incident\): must be an incident id/);
  assert.match(badFile.stderr, /mode \(--mode\): must be "real" or "drill"/);
  const ghost = await dr('status', 'never-started');
  assert.equal(ghost.code, 1);
  assert.match(ghost.stderr, /no runbook with workflow id "never-started"/);

  const missing = await dr('approve', 'whatever', '--gate', 'cutover');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /required option '--as <name>'/);
  const unreachable = await runNode([drBinary, 'list'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
  assert.equal(unreachable.code, 4);
  assert.match(unreachable.stderr, /^dr: cannot reach Temporal at 127\.0\.0\.1:1/);
});

/** `dr status <id> --watch` under script(1), so its stdout is a terminal; output readable while it runs. */
function watchOnTerminal(workflowId: string): { output: () => string; done: Promise<Run> } {
  const command = [process.execPath, drBinary, 'status', workflowId, '--watch', '--interval', '0.3'].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    cwd: root,
    env: { ...process.env, TEMPORAL_ADDRESS: stack.temporal.address, TEMPORAL_NAMESPACE: stack.temporal.namespace, DR_TASK_QUEUE: taskQueue },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr })));
  return { output: () => stdout, done };
}

/** The object store as files under a directory (what the local adapter does), for publishing a report. */
function directoryWriter(dir: string): ObjectStore {
  return {
    async put(key, body) {
      const file = path.join(dir, key);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, body);
    },
    async get() {
      return undefined;
    },
    async list() {
      return [];
    },
  };
}
