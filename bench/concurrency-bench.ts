import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { WorkerOptions } from '@temporalio/worker';
import { startRunbook } from '../client/runbooks';
import type { RunbookResult } from '../contracts/runbook-status';
import { approveUpdate, statusQuery } from '../workflows/messages';
import { recoverFromAccidentalDeletionInput } from '../workflows/recover-from-accidental-deletion';
import { runbookWorkerTuning } from '../worker/worker';
import { fixtureInput } from '../test/support/fixture-runbook';
import { sleep, type BenchContext } from './context';
import type { PitrTarget } from './pitr-bench';
import { historyFacts, loadAverage, processCpuSeconds, type RunbookHistoryFacts } from './concurrency-histories';
import { formatMegabytes, formatSeconds, type BenchResult } from './report-table';

/** The worker options this benchmark varies (the runbook worker's own, or the SDK's defaults). */
export type WorkerTuning = Pick<WorkerOptions, 'maxConcurrentWorkflowTaskExecutions' | 'maxConcurrentWorkflowTaskPolls' | 'maxCachedWorkflows' | 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentActivityTaskPolls' | 'stickyQueueScheduleToStartTimeout'>;

/** The step the fixture runbook runs right after its cutover gate. */
const afterGate = 'switch production to new instance';
// The fixture plan's gate: 2 of alice, bob, carol, dave, two-person rule; carol starts every run.
const voters = ['alice', 'bob'];

/** Whether a history event schedules the named step's activity, doWork (its input names the step; payloads are JSON, not encrypted, in this bench). */
function isStep(event: temporal.api.history.v1.IHistoryEvent, step: string): boolean {
  const scheduled = event.activityTaskScheduledEventAttributes;
  const payload = scheduled?.input?.payloads?.[0]?.data;
  // The audit batch written before the step names it too: only the step's own activity counts.
  return scheduled?.activityType?.name === 'doWork' && payload !== undefined && payload !== null && Buffer.from(payload).toString('utf8').includes(JSON.stringify(step));
}

export function percentile(values: number[], p: number): number {
  if (!values.length) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface WorkerEvent { kind: 'ready' | 'gate' | 'step' | 'stopped'; workflowId?: string; step?: string; at?: number; peakKb?: number; cpuSeconds?: number }

function startWorkerChild(address: string, namespace: string, taskQueue: string, tuning: WorkerTuning): { child: ChildProcess; ready: Promise<void>; stopped: Promise<{ peakKb: number; cpuSeconds: number }> } {
  const child = fork(path.join(__dirname, 'concurrency-worker.ts'), [JSON.stringify({ address, namespace, taskQueue, tuning })], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 2, 2, 'ipc'] });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the benchmark worker exited (code ${code}) before it was stopped`))));
  const ready = Promise.race([new Promise<void>((resolve) => child.on('message', (m: WorkerEvent) => m.kind === 'ready' && resolve())), exited]);
  const stopped = Promise.race([new Promise<{ peakKb: number; cpuSeconds: number }>((resolve) => child.on('message', (m: WorkerEvent) => m.kind === 'stopped' && resolve({ peakKb: m.peakKb!, cpuSeconds: m.cpuSeconds! }))), exited]);
  ready.catch(() => undefined);
  stopped.catch(() => undefined);
  return { child, ready, stopped };
}

interface Wave {
  runbooks: number;
  latenciesMs: number[];
  workflowTasks: number;
  /** First start → last completion. */
  wallMs: number;
  /** Workflow task schedule-to-start, from the histories: how long tasks waited for the worker. */
  taskWaitMs: number[];
  /** Workflow tasks that timed out (a sticky task not picked up in time goes back to the shared queue, and the run is replayed). */
  taskTimeouts: number;
  /** Activities scheduled over all runbooks, by type. */
  activities: Record<string, number>;
  paths: NonNullable<RunbookHistoryFacts['path']>[];
  peakKb: number;
  /** CPU the worker process used over its life (user + system), and the dev server during the wave. */
  workerCpuSeconds: number;
  serverCpuSeconds?: number;
  load: string;
}

/**
 * `runbooks` fixture runbooks on one fresh worker process: all started at once, each gate
 * approved by two votes (Updates) as soon as its `approval-needed` notification reaches the fake notifier;
 * the latency is from sending the deciding vote to the next step's activity starting on the worker.
 */
async function runWave(client: Client, address: string, namespace: string, serverPid: number, runbooks: number, tuning: WorkerTuning, label: string): Promise<Wave> {
  const taskQueue = `bench-concurrency-${process.pid}-${label}`;
  const worker = startWorkerChild(address, namespace, taskQueue, tuning);
  try {
    await worker.ready;
    const decidedAt = new Map<string, number>();
    const nextStepAt = new Map<string, number>();
    const votes: Promise<unknown>[] = [];
    worker.child.on('message', (m: WorkerEvent) => {
      if (m.kind === 'step' && m.step === afterGate) nextStepAt.set(m.workflowId!, m.at!);
      if (m.kind === 'gate') {
        const handle = client.workflow.getHandle(m.workflowId!);
        votes.push((async () => {
          await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: voters[0]!, comment: 'bench' }] });
          decidedAt.set(m.workflowId!, Date.now());
          await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: voters[1]!, comment: 'bench' }] });
        })());
      }
    });
    const serverCpuBefore = processCpuSeconds(serverPid);
    const began = Date.now();
    const handles = await Promise.all(Array.from({ length: runbooks }, (_, i) =>
      client.workflow.start('fixtureRunbook', { taskQueue, workflowId: `${taskQueue}-${i}`, args: [fixtureInput({ incidentId: `BENCH-${i}` })] })));
    const results = await Promise.all(handles.map((h) => h.result() as Promise<RunbookResult>));
    const wallMs = Date.now() - began;
    await Promise.all(votes);
    const failed = results.filter((r) => r.verdict !== 'completed');
    if (failed.length) throw new Error(`${failed.length} of ${runbooks} runbooks ended ${failed[0]!.verdict}: ${failed[0]!.verdictDetail ?? ''}`);
    const latenciesMs = handles.map((h) => {
      const decided = decidedAt.get(h.workflowId);
      const next = nextStepAt.get(h.workflowId);
      if (decided === undefined || next === undefined) throw new Error(`${h.workflowId}: no approval or no step after the gate was seen`);
      return next - decided;
    });
    const facts: RunbookHistoryFacts[] = [];
    for (const h of handles) {
      const events = (await h.fetchHistory()).events ?? [];
      facts.push(historyFacts(events, decidedAt.get(h.workflowId), (e) => isStep(e, afterGate)));
    }
    const workflowTasks = facts.reduce((sum, f) => sum + f.workflowTasks, 0);
    const taskTimeouts = facts.reduce((sum, f) => sum + f.taskTimeouts, 0);
    const taskWaitMs = facts.flatMap((f) => f.taskWaitMs);
    const activities: Record<string, number> = {};
    for (const f of facts) for (const [type, n] of Object.entries(f.activities)) activities[type] = (activities[type] ?? 0) + n;
    const paths = facts.flatMap((f) => (f.path ? [f.path] : []));
    worker.child.send('stop');
    const stopped = await worker.stopped;
    const serverCpuAfter = processCpuSeconds(serverPid);
    return {
      runbooks, latenciesMs, workflowTasks, wallMs, taskWaitMs, taskTimeouts, activities, paths, peakKb: stopped.peakKb, workerCpuSeconds: stopped.cpuSeconds,
      ...(serverCpuBefore !== undefined && serverCpuAfter !== undefined ? { serverCpuSeconds: serverCpuAfter - serverCpuBefore } : {}),
      load: loadAverage(),
    };
  } finally {
    if (worker.child.exitCode === null) worker.child.kill('SIGTERM');
  }
}

const ms = (v: number) => `${Math.round(v)} ms`;

/** Per runbook: workflow tasks and activities; the deciding vote's path in three parts; whose CPU the wave used. */
function whereTheTimeGoes(wave: Wave): string {
  const per = (n: number) => (n / wave.runbooks).toFixed(1);
  const activities = Object.entries(wave.activities).sort(([a], [b]) => a.localeCompare(b)).map(([type, n]) => `${type} ${per(n)}`).join(', ');
  const part = (pick: (p: Wave['paths'][number]) => number) => (wave.paths.length ? `p50 ${ms(percentile(wave.paths.map(pick), 50))} / p99 ${ms(percentile(wave.paths.map(pick), 99))}` : 'not seen');
  const tasksBetween = wave.paths.length ? percentile(wave.paths.map((p) => p.workflowTasksBetween), 50) : 0;
  const cpu = `CPU over ${formatSeconds(wave.wallMs)}: worker ${wave.workerCpuSeconds.toFixed(1)} s${wave.serverCpuSeconds !== undefined ? `, Temporal dev server ${wave.serverCpuSeconds.toFixed(1)} s` : ''}`;
  return `per runbook ${per(wave.workflowTasks)} workflow tasks; activities per runbook: ${activities}; deciding vote → its workflow task scheduled ${part((p) => p.toVoteTaskScheduledMs)} → started ${part((p) => p.toVoteTaskMs)}, → next step scheduled ${part((p) => p.bookkeepingMs)} (${tasksBetween} workflow task(s) between), → started ${part((p) => p.activityQueueMs)}; ${cpu}; load ${wave.load}`;
}

/** Many runbooks at once on one worker; the raw counterpart of each figure is one runbook alone on a worker like it, in the same run. */
export async function benchManyRunbooks(ctx: BenchContext, runbooks: number, tuningName: 'runbook-worker' | 'sdk-defaults'): Promise<BenchResult[]> {
  const tuning: WorkerTuning = tuningName === 'sdk-defaults' ? {} : runbookWorkerTuning;
  const { address, namespace } = ctx.stack.temporal;
  ctx.log(`concurrency: one fixture runbook alone (the raw figure), worker tuning ${tuningName} ${JSON.stringify(tuning)}`);
  const alone = await runWave(ctx.temporal, address, namespace, ctx.stack.temporal.process.pid, 1, tuning, 'alone');
  ctx.log(`concurrency: ${runbooks} fixture runbooks at once on one worker`);
  const many = await runWave(ctx.temporal, address, namespace, ctx.stack.temporal.process.pid, runbooks, tuning, 'many');
  const p50 = percentile(many.latenciesMs, 50);
  const p99 = percentile(many.latenciesMs, 99);
  const rate = many.workflowTasks / (many.wallMs / 1000);
  const aloneRate = alone.workflowTasks / (alone.wallMs / 1000);
  ctx.log(`concurrency: ${runbooks} runbooks in ${formatSeconds(many.wallMs)}, ${many.workflowTasks} workflow tasks; approval → next step p50 ${ms(p50)}, p99 ${ms(p99)}, max ${ms(Math.max(...many.latenciesMs))}; workflow task schedule-to-start p50 ${ms(percentile(many.taskWaitMs, 50))}, p99 ${ms(percentile(many.taskWaitMs, 99))}, ${many.taskTimeouts} timed out; worker peak ${formatMegabytes(many.peakKb)}`);
  ctx.log(`concurrency: ${whereTheTimeGoes(many)}`);
  const how = `fixture runbook (the real runner over fake activities; mode real, as a drill refuses its fake production step), gates approved by 2 votes by name (the fixture plan's authentication: none, no proof checked); worker tuning ${tuningName}`;
  const load = `load ${many.load} at the end of the wave`;
  return [
    { name: `approval → next step, p99 of ${runbooks} at once / 1 alone`, figure: ms(p99), raw: ms(alone.latenciesMs[0]!), ratio: p99 / Math.max(1, alone.latenciesMs[0]!), goal: '< 1 s', met: p99 < 1000, note: `p50 ${ms(p50)}; from sending the deciding vote (an Update) to the next step's activity starting on the worker; ${how}; ${load}` },
    { name: `workflow tasks per second, ${runbooks} at once / 1 alone`, figure: rate.toFixed(0), raw: aloneRate.toFixed(1), ratio: rate / aloneRate, goal: '—', met: undefined, note: `${many.workflowTasks} workflow tasks completed in ${formatSeconds(many.wallMs)} (first start → last completion); task schedule-to-start p99 ${ms(percentile(many.taskWaitMs, 99))}, ${many.taskTimeouts} task(s) timed out; ${whereTheTimeGoes(many)}` },
    { name: `worker peak memory, ${runbooks} at once / 1 alone`, figure: formatMegabytes(many.peakKb), raw: formatMegabytes(alone.peakKb), ratio: many.peakKb / alone.peakKb, goal: '—', met: undefined, note: 'VmHWM of the worker process (Node and the SDK core), each wave on a fresh worker' },
  ];
}

/** Approves every open gate of a run as it opens, with the listed approvers who still may (votes by name: the embedded config says authentication none). */
async function approveAsGatesOpen(handle: WorkflowHandle): Promise<RunbookResult> {
  const result = handle.result() as Promise<RunbookResult>;
  let done = false;
  void result.finally(() => (done = true)).catch(() => undefined);
  while (!done) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    for (const gate of status?.openGates ?? []) {
      for (const approver of gate.stillMayApprove.slice(0, gate.quorum - gate.approvals.length)) {
        await handle.executeUpdate(approveUpdate, { args: [{ gate: gate.gate, approver, comment: 'bench: parallel drills' }] }).catch(() => undefined);
      }
    }
    await Promise.race([result.catch(() => undefined), sleep(250)]);
  }
  return result;
}

async function runDrills(ctx: BenchContext, target: PitrTarget, count: number, label: string): Promise<{ wallMs: number; rtoSeconds: number[] }> {
  const began = Date.now();
  const results = await Promise.all(Array.from({ length: count }, async (_, i) => {
    const input = recoverFromAccidentalDeletionInput.parse({
      incidentId: `BENCH-${label}-${i}-${Date.now().toString(36).toUpperCase()}`,
      startedBy: 'bench', mode: 'drill', targetTime: target.time, declaredAt: new Date().toISOString(), resolution: 'cutover',
    });
    const handle = await startRunbook(ctx.temporal, { workflowType: 'recoverFromAccidentalDeletion', scenario: 'accidental-deletion', input, taskQueue: ctx.taskQueue });
    return approveAsGatesOpen(handle);
  }));
  const wallMs = Date.now() - began;
  const failed = results.filter((r) => r.verdict !== 'completed');
  if (failed.length) throw new Error(`${failed.length} of ${count} drills ended ${failed[0]!.verdict}: ${failed[0]!.verdictDetail ?? ''}`);
  return { wallMs, rtoSeconds: results.map((r) => r.rto.elapsedSeconds) };
}

/** `count` real accidental-deletion drills of the dataset at once on the bench's worker; the raw figure is one drill alone, same run. */
export async function benchParallelDrills(ctx: BenchContext, target: PitrTarget, count: number): Promise<BenchResult[]> {
  ctx.log('concurrency: one accidental-deletion drill alone (the raw figure)');
  const alone = await runDrills(ctx, target, 1, 'alone');
  ctx.log(`concurrency: ${count} accidental-deletion drills at once`);
  const many = await runDrills(ctx, target, count, 'many');
  const worst = Math.max(...many.rtoSeconds);
  ctx.log(`concurrency: ${count} drills in ${formatSeconds(many.wallMs)}; RTO per drill ${many.rtoSeconds.map((s) => `${s} s`).join(', ')}`);
  const how = 'recoverFromAccidentalDeletion, drill, resolution cutover (assess, PITR into a new instance, validation, cutover gate approved by name as it opens)';
  return [
    { name: `${count} drills at once: total / ${count} × 1 alone`, figure: formatSeconds(many.wallMs), raw: formatSeconds(count * alone.wallMs), ratio: many.wallMs / (count * alone.wallMs), goal: '—', met: undefined, note: `${how}; one alone took ${formatSeconds(alone.wallMs)}` },
    { name: `${count} drills at once: worst RTO / 1 alone`, figure: `${worst} s`, raw: `${alone.rtoSeconds[0]} s`, ratio: worst / Math.max(1, alone.rtoSeconds[0]!), goal: '—', met: undefined, note: 'the runbook\'s own RTO clock (declared → cutover verified)' },
  ];
}
