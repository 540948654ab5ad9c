import { createReportActivities } from '../../activities/reports';
import { createMemoryObjectStore } from './memory-object-store';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { AuditEntry } from '../../activities/audit-port';
import type { Notification } from '../../contracts/notifications';
import type { GatePlan, RunbookPlan } from '../../contracts/runbook-plan';
import { statusQuery } from '../../workflows/messages';
import type { RunbookStatus } from '../../contracts/runbook-status';
import type { FixtureRunbookInput } from '../fixtures/workflows';
import { workerPayloadConverterPath } from '../../worker/payload-encryption';

/** The fixture runbook's workflows, bundled once per test process. */
export const fixtureWorkflowsPath = path.join(__dirname, '..', 'fixtures', 'workflows');
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function fixtureBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve(fixtureWorkflowsPath), payloadConverterPath: workerPayloadConverterPath, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m) => console.error(m) } });
  return bundle;
}

export function cutoverGate(overrides: Partial<GatePlan> = {}): GatePlan {
  return {
    approvers: ['alice', 'bob', 'carol', 'dave'],
    quorum: 2,
    twoPersonRule: true,
    escalation: [
      { afterMs: 60_000, audience: 'technical-team' },
      { afterMs: 120_000, audience: 'management' },
    ],
    deadlineMs: 300_000,
    // These engine tests vote by name; the proofs have tests of their own (vote-proofs.test.ts).
    authentication: 'none',
    ...overrides,
  };
}

export function fixturePlan(gates: Record<string, GatePlan> = { cutover: cutoverGate() }, abort: RunbookPlan['abort'] = { commanders: ['alice', 'bob', 'carol', 'dave'], authentication: 'none' }): RunbookPlan {
  return { scenario: 'fixture', environment: 'local', gates, objectives: { rtoSeconds: 3600, rpoSeconds: 900 }, abort };
}

/** What the fake activities saw, in order. */
export interface FixtureRecorder {
  work: string[];
  undone: string[];
  audit: AuditEntry[];
  notifications: Notification[];
}

/**
 * Fake activities for the fixture runbook: scripted failures and holds come from the workflow input; the
 * audit fake is idempotent on seq like the real table. Infrastructure activities can be replaced.
 */
export function fixtureActivities(recorder: FixtureRecorder, options: { plan?: RunbookPlan; loadRunbookPlan?: (input: { scenario: string; environment: string }) => Promise<RunbookPlan> } = {}) {
  const hold = async (ms: number) => {
    if (!ms) return;
    const context = Context.current();
    const until = Date.now() + ms;
    while (Date.now() < until) {
      context.heartbeat();
      await context.sleep(Math.min(200, until - Date.now())); // throws when the activity is cancelled
    }
  };
  return {
    async doWork(input: { step: string; fail?: boolean; holdMs?: number }) {
      recorder.work.push(input.step);
      await hold(input.holdMs ?? 0);
      if (input.fail) throw ApplicationFailure.nonRetryable(`scripted failure of "${input.step}"`, 'ScriptedFailure');
      return { step: input.step, resource: `${input.step.replace(/\s+/g, '-')}-1` };
    },
    async undoWork(input: { resource: string; fail?: boolean; holdMs?: number }) {
      recorder.undone.push(input.resource);
      await hold(input.holdMs ?? 0);
      if (input.fail) throw ApplicationFailure.nonRetryable(`scripted failure undoing ${input.resource}`, 'ScriptedFailure');
    },
    async readNewestCommit(_input: { resource: string }) {
      return { newestCommittedAt: '2026-11-23T03:00:00.000Z' };
    },
    loadRunbookPlan: options.loadRunbookPlan ?? (async () => options.plan ?? fixturePlan()),
    async notify(notification: Notification) {
      recorder.notifications.push(notification);
    },
    // Like the real table: a batch continues the trail without a gap; a seq already stored is skipped.
    async appendAuditEntries(input: { workflowId: string; entries: AuditEntry[] }) {
      for (const entry of input.entries) {
        const last = recorder.audit.at(-1)?.seq ?? 0;
        if (entry.seq > last + 1) throw ApplicationFailure.nonRetryable(`seq ${entry.seq} leaves a gap after ${last}`, 'AuditGap');
        if (entry.seq === last + 1) recorder.audit.push(entry);
      }
    },
    // The real renderer into a store in memory: every runbook's report must render (no secret, no crash).
    publishRunbookReport: createReportActivities(reportStore).publishRunbookReport,
  };
}

/** Reports the fixture runbooks published, by object key. */
export const reportStore = createMemoryObjectStore();

export function newRecorder(): FixtureRecorder {
  return { work: [], undone: [], audit: [], notifications: [] };
}

export function fixtureInput(overrides: Partial<FixtureRunbookInput> = {}): FixtureRunbookInput {
  return { incidentId: 'INC-7', startedBy: 'carol', targetTime: '2026-11-23T03:05:00.000Z', ...overrides };
}

/** Runs `fn` with a worker for the fixture runbook on a fresh task queue. */
export async function withFixtureWorker<T>(
  connection: NativeConnection,
  namespace: string,
  activities: object,
  fn: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = `fixture-${randomUUID()}`;
  const worker = await Worker.create({ connection, namespace, taskQueue, workflowBundle: await fixtureBundle(), activities, dataConverter: { payloadConverterPath: workerPayloadConverterPath } });
  return worker.runUntil(fn(taskQueue));
}

export function startFixture(client: Client, taskQueue: string, input: FixtureRunbookInput, workflowId = `fixture-${randomUUID()}`) {
  return client.workflow.start('fixtureRunbook', { taskQueue, workflowId, args: [input] });
}

/** Polls the status query until `predicate` holds (the runbook reached a state); fails after 20 s. */
export async function waitForStatus(handle: WorkflowHandle, predicate: (s: RunbookStatus) => boolean, what: string): Promise<RunbookStatus> {
  const deadline = Date.now() + 20_000;
  let last: RunbookStatus | undefined;
  while (Date.now() < deadline) {
    try {
      last = await handle.query(statusQuery);
      if (predicate(last)) return last;
    } catch {
      // not started yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for: ${what}; last status: ${JSON.stringify(last)}`);
}

export const gateOpen = (gate: string) => (s: RunbookStatus) => s.openGates.some((g) => g.gate === gate);
export const stepRunning = (step: string) => (s: RunbookStatus) => s.timeline.some((e) => e.step === step && e.outcome === 'running');
