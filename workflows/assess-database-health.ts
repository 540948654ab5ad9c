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

export const assessDatabaseHealthInput = z.strictObject({
  database: configName.describe('the database to assess, by its name in the worker config'),
  environment: configName.default('local'),
  incidentId: z.string().min(1).max(64).optional(),
});
export type AssessDatabaseHealthInput = z.input<typeof assessDatabaseHealthInput>;

/** Step 1 of every runbook: is the database reachable, and do the money totals look sane? */
export async function assessDatabaseHealth(rawInput: AssessDatabaseHealthInput): Promise<DatabaseHealth> {
  const parsed = assessDatabaseHealthInput.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: describeIssues(parsed.error), nonRetryable: true });
  }
  const input = parsed.data;
  upsertSearchAttributes([
    { key: DrScenario, value: 'assessment' },
    { key: DrEnvironment, value: input.environment },
    { key: DrIncidentId, value: input.incidentId ?? workflowInfo().workflowId },
    { key: DrStatus, value: 'running' },
  ]);
  setCurrentDetails(`**assessment** of ${input.database} · ${input.incidentId ?? workflowInfo().workflowId} · ${input.environment}`);
  const health = await checkDatabaseHealth({ database: input.database });
  upsertSearchAttributes([{ key: DrStatus, value: 'completed' }]);
  return health;
}
