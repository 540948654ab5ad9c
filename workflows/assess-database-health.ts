import { ApplicationFailure, proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities, DatabaseHealth } from '../activities';
import { z } from 'zod';
import { configName, describeIssues } from '../contracts/inputs';
import { DrEnvironment, DrIncidentId, DrScenario, DrStatus } from './search-attributes';
import { FailureType } from '../contracts/failure-types';

const { checkDatabaseHealth } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second' },
  summary: 'SELECT now(), version() and the critical integrity query',
});

const { notify } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
  summary: 'page people: an alert asks for this assessment',
});

export const assessDatabaseHealthInput = z.strictObject({
  database: configName.describe('the database to assess, by its name in the worker config'),
  environment: configName.default('local'),
  incidentId: z.string().min(1).max(64).optional(),
  /** An alert started it (DataCorruptionDetected): page people first, then assess; which runbook follows is theirs to decide. */
  page: z.boolean().default(false).describe('page people (incident opened) before assessing'),
  startedBy: z.string().trim().min(1).max(128).optional().describe('who (or which alert receiver) asks for the assessment'),
});
export type AssessDatabaseHealthInput = z.input<typeof assessDatabaseHealthInput>;

/** Step 1 of every runbook: is the database reachable, and do the money totals look sane? */
export async function assessDatabaseHealth(rawInput: AssessDatabaseHealthInput): Promise<DatabaseHealth> {
  const parsed = assessDatabaseHealthInput.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: describeIssues(parsed.error), nonRetryable: true });
  }
  const input = parsed.data;
  const { workflowId } = workflowInfo();
  upsertSearchAttributes([
    { key: DrScenario, value: 'assessment' },
    { key: DrEnvironment, value: input.environment },
    { key: DrIncidentId, value: input.incidentId ?? workflowId },
    { key: DrStatus, value: 'running' },
  ]);
  setCurrentDetails(`**assessment** of ${input.database} · ${input.incidentId ?? workflowId} · ${input.environment}`);
  // Without `page` the assessment runs as it always has (no notification command): only new inputs ask for one.
  if (input.page) {
    const runbook = { workflowId, scenario: 'assessment', environment: input.environment, incidentId: input.incidentId ?? workflowId, mode: 'real' as const };
    // A page that cannot be sent does not keep the assessment from running.
    await notify({ kind: 'incident-opened', runbook, startedBy: input.startedBy ?? 'unknown' }).catch(() => undefined);
  }
  const health = await checkDatabaseHealth({ database: input.database });
  upsertSearchAttributes([{ key: DrStatus, value: 'completed' }]);
  return health;
}
