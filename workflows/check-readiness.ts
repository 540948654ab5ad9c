import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { StackReadinessActivities } from '../activities/readiness/stack-readiness';
import type { createNotificationActivities } from '../activities/notifications';
import { readinessFailures, type StackReadiness } from '../contracts/stack-readiness';

const { assessStackReadiness } = proxyActivities<Pick<StackReadinessActivities, 'assessStackReadiness'>>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumAttempts: 2 },
  summary: 'check the stack: backups, WAL archive, repository space, reachability, secrets, approvers, drill schedules',
});

const { publishStackReadiness } = proxyActivities<Pick<StackReadinessActivities, 'publishStackReadiness'>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
  summary: 'write the readiness report and set the readiness gauges',
});

const { notify } = proxyActivities<ReturnType<typeof createNotificationActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
  summary: 'page: the stack is not ready for a recovery',
});

/**
 * Is the stack ready for a recovery now? (`dr readiness`, and its Temporal Schedule every 15 minutes by
 * default: `dr readiness schedule`.) Reads only. The report goes to the object store, the gauges to the
 * worker's /metrics, and a failing run pages (readiness-alert through the notifiers). The result says
 * what failed; the run itself completes, so the schedule keeps checking.
 */
export async function checkReadiness(): Promise<StackReadiness & { reportKey: string }> {
  const readiness = await assessStackReadiness();
  const { reportKey } = await publishStackReadiness(readiness);
  const failures = readinessFailures(readiness);
  setCurrentDetails(`**readiness** of ${readiness.environment}: ${readiness.ready ? 'ready' : `${failures.length} failing`}\n\n${failures.join('\n\n')}`);
  if (!readiness.ready) {
    await notify({ kind: 'readiness-alert', environment: readiness.environment, failing: readiness.lines.filter((l) => !l.passed).slice(0, 20).map((l) => ({ check: l.check, subject: l.subject, detail: l.detail })), reportKey }).catch(() => undefined);
  }
  return { ...readiness, reportKey };
}
