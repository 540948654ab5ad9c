import { patched, proxyActivities } from '@temporalio/workflow';
import type { createRunbookPlanActivities } from '../activities/runbook-plan';
import type { RunbookTargetActivities } from '../activities/runbook-targets';
import type { RunbookPlan } from '../contracts/runbook-plan';
import type { RunbookTargets } from '../contracts/runbook-targets';

const { loadRunbookPlan } = proxyActivities<ReturnType<typeof createRunbookPlanActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
  summary: 'read the gates and objectives for this scenario from the worker config',
});

const { checkRunbookTargets } = proxyActivities<RunbookTargetActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
  summary: 'check that the databases, replicas, tables and versions the input names exist',
});

/**
 * The history shape of runs that check the input's targets while the plan is read: both only read (the
 * worker's config, the platform's instances, the databases' tables), neither needs the other, and
 * nothing is built until both have answered. Recorded runs read the plan first.
 */
export const PLAN_BESIDE_TARGETS_PATCH = 'plan-beside-targets';

/** What a runbook reads before its first step: its plan, and (a secured run with targets) the check that its input's targets exist. */
export interface StartingReads {
  plan: Promise<RunbookPlan>;
  /** Resolves once the targets are checked (started now, or, in recorded runs, when this is called); rejects with the refusal. */
  targetsChecked(): Promise<unknown>;
}

/**
 * Starts the reads. The caller awaits the plan, decides an abort that arrived meanwhile, then awaits
 * `targetsChecked()` before anything runs: a check started beside the plan changes nothing, so it may
 * be left unanswered when the run ends before it (its outcome is then not waited for).
 */
export function startReads(scenario: string, environment: string, targets: RunbookTargets | undefined): StartingReads {
  if (!targets) return { plan: loadRunbookPlan({ scenario, environment }), targetsChecked: () => Promise.resolve(undefined) };
  if (!patched(PLAN_BESIDE_TARGETS_PATCH)) {
    return { plan: loadRunbookPlan({ scenario, environment }), targetsChecked: () => checkRunbookTargets({ scenario, targets }) };
  }
  const plan = loadRunbookPlan({ scenario, environment });
  const checking = checkRunbookTargets({ scenario, targets });
  // Awaited by targetsChecked(); a run that ends first (a bad plan, an abort) does not wait for it.
  checking.catch(() => undefined);
  return { plan, targetsChecked: () => checking };
}
