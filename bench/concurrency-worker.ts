import { readFileSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createReportActivities } from '../activities/reports';
import type { Notification } from '../contracts/notifications';
import { workerPayloadConverterPath } from '../worker/payload-encryption';
import { fixtureBundle, fixturePlan } from '../test/support/fixture-runbook';
import type { WorkerTuning } from './concurrency-bench';

// One worker in its own process running the fixture runbook (the real runner: steps, gate, audit trail,
// notifications, report) over fast fake activities, so its peak memory (VmHWM) is the worker's alone.
// Argv[2]: JSON { address, namespace, taskQueue, tuning }. Tells its parent over IPC when a gate opens
// ({ kind: 'gate' }) and when a step's activity starts ({ kind: 'step' }), each with the wall clock.
// On the parent's 'stop' it shuts down and sends { kind: 'stopped', peakKb, cpuSeconds }.
interface Options { address: string; namespace: string; taskQueue: string; tuning: WorkerTuning }

function peakRssKb(): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return line ? Number(/(\d+)/.exec(line)![1]) : Math.round(process.memoryUsage().rss / 1024);
}

const send = (message: object) => process.send?.(message);
const workflowId = () => Context.current().info.workflowExecution?.workflowId ?? '';
// Reports rendered for real (their CPU is part of a runbook's end) but not kept: 200 in memory would be the bench's memory, not the worker's.
const discard = { async put() {}, async get() { return undefined; }, async list() { return []; } };

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]!) as Options;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: options.address });
  const plan = fixturePlan();
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: await fixtureBundle(),
    dataConverter: { payloadConverterPath: workerPayloadConverterPath },
    ...options.tuning,
    activities: {
      async doWork(input: { step: string }) {
        send({ kind: 'step', workflowId: workflowId(), step: input.step, at: Date.now() });
        return { step: input.step, resource: `${input.step.replace(/\s+/g, '-')}-1` };
      },
      async undoWork() {},
      async readNewestCommit() {
        return { newestCommittedAt: new Date(Date.now() - 60_000).toISOString() };
      },
      async loadRunbookPlan() {
        return plan;
      },
      async checkRunbookTargets() {},
      async notify(notification: Notification) {
        if (notification.kind === 'approval-needed') send({ kind: 'gate', workflowId: workflowId(), gate: notification.gate, at: Date.now() });
      },
      async appendAuditEntries() {},
      publishRunbookReport: createReportActivities(discard).publishRunbookReport,
    },
  });
  process.on('message', (message) => {
    if (message === 'stop') worker.shutdown();
  });
  send({ kind: 'ready' });
  await worker.run();
  await connection.close();
  const cpu = process.cpuUsage();
  send({ kind: 'stopped', peakKb: peakRssKb(), cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  process.disconnect?.();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
