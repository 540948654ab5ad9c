import type { z } from 'zod';
import { recoverFromAccidentalDeletionInput } from './recover-from-accidental-deletion';
import { recoverFromRegionOutageInput } from './recover-from-region-outage';
import { recoverFromFailedMigrationInput } from './recover-from-failed-migration';
import { recoverFromServerFailureInput } from './recover-from-server-failure';

/**
 * Every scenario a commander or a drill can run: its workflow type and its input schema (shared with
 * the CLI). One line per scenario; `runDrill` and `dr start` read this table.
 */
export const scenarios = {
  'accidental-deletion': { workflowType: 'recoverFromAccidentalDeletion', input: recoverFromAccidentalDeletionInput },
  'region-outage': { workflowType: 'recoverFromRegionOutage', input: recoverFromRegionOutageInput },
  'failed-migration': { workflowType: 'recoverFromFailedMigration', input: recoverFromFailedMigrationInput },
  'server-failure': { workflowType: 'recoverFromServerFailure', input: recoverFromServerFailureInput },
} as const satisfies Record<string, { workflowType: string; input: z.ZodType }>;

export type ScenarioName = keyof typeof scenarios;
export const scenarioNames = Object.keys(scenarios) as ScenarioName[];
