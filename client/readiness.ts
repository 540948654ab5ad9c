import { randomUUID } from 'node:crypto';
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { durationToMs } from '../contracts/durations';
import type { StackReadiness } from '../contracts/stack-readiness';

export const readinessScheduleId = 'dr-readiness';
/** Issue 13: readiness is checked every 15 minutes unless said otherwise. */
export const defaultReadinessEvery = '15 minutes';

export type ReadinessResult = StackReadiness & { reportKey: string };

/** Checks the stack now, through the worker (it holds the credentials and the config). */
export function checkReadinessNow(client: Client, taskQueue: string): Promise<ReadinessResult> {
  return client.workflow.execute('checkReadiness', { taskQueue, workflowId: `readiness-${randomUUID().slice(0, 8)}`, args: [], staticSummary: 'readiness check (on demand)' }) as Promise<ReadinessResult>;
}

/**
 * The Temporal Schedule that checks readiness every `every` (overlap skip; never paused by a failure:
 * a failing check is what it is there to report). Creating it again replaces its interval.
 */
export async function scheduleReadiness(client: Client, options: { taskQueue: string; every?: string; createdBy: string }) {
  const every = options.every ?? defaultReadinessEvery;
  const handle = client.schedule.getHandle(readinessScheduleId);
  const exists = await handle.describe().then(() => true, () => false);
  if (exists) await handle.delete();
  return client.schedule.create({
    scheduleId: readinessScheduleId,
    spec: { intervals: [{ every: durationToMs(every) }] },
    action: { type: 'startWorkflow', workflowType: 'checkReadiness', taskQueue: options.taskQueue, workflowId: 'readiness-scheduled', args: [], staticSummary: `Scheduled readiness check (every ${every})` },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, pauseOnFailure: false, catchupWindow: '1 hour' },
    state: { note: `created by ${options.createdBy}` },
    memo: { every, createdBy: options.createdBy },
  });
}

/** The lines a person reads: failures first, each naming its check, what it checked and what to do. */
export function describeReadiness(r: ReadinessResult): string[] {
  const failing = r.lines.filter((l) => !l.passed);
  const lines = [`readiness of ${r.environment} at ${r.checkedAt}: ${r.ready ? 'READY' : `NOT READY (${failing.length} failing)`}; report ${r.reportKey}`];
  for (const l of [...failing, ...r.lines.filter((x) => x.passed)]) lines.push(`  ${l.passed ? (l.warning ? 'warn' : 'ok  ') : 'FAIL'} ${l.check} (${l.subject}): ${l.detail}`);
  return lines;
}
