import { ApplicationFailure, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities, DatabaseHealth } from '../activities';
import { assessDatabaseHealthInput, describeIssues, type AssessDatabaseHealthInput } from './inputs';
import { DrEnvironment, DrIncidentId, DrScenario, DrStatus } from './search-attributes';

const { checkDatabaseHealth } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second' },
  summary: 'SELECT now(), version() and the critical integrity query',
});

/** Step 1 of every runbook: is the database reachable, and do the money totals look sane? */
export async function assessDatabaseHealth(rawInput: AssessDatabaseHealthInput): Promise<DatabaseHealth> {
  const parsed = assessDatabaseHealthInput.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.create({ type: 'InvalidInput', message: describeIssues(parsed.error), nonRetryable: true });
  }
  const input = parsed.data;
  upsertSearchAttributes([
    { key: DrScenario, value: 'assessment' },
    { key: DrEnvironment, value: input.environment },
    { key: DrIncidentId, value: input.incidentId ?? workflowInfo().workflowId },
    { key: DrStatus, value: 'running' },
  ]);
  const health = await checkDatabaseHealth({ database: input.database });
  upsertSearchAttributes([{ key: DrStatus, value: 'completed' }]);
  return health;
}
