import { createValidationActivities } from '../../activities/validation';
import { parseApplicationDeclaration, type ApplicationDeclarationInput } from '../../activities/validation/declaration';
import type { ValidationGateResult } from '../../contracts/validation';
import { validationGateInput } from '../../workflows/scenario-steps';
import { createMemoryObjectStore } from './memory-object-store';
import type { TestPostgres } from './postgres';

/**
 * The validation gate over a test cluster, called exactly as the runbooks call it: the last known good
 * baseline of `source` at or before the incident is looked up, then the gate runs with it (or with
 * the reason there is none). Baselines are taken as backupWithBaseline takes them: read from a copy of
 * the backup, then given a good verdict.
 */
export function testGate(pg: TestPostgres, application: ApplicationDeclarationInput, source = 'production') {
  const store = createMemoryObjectStore();
  const activities = createValidationActivities(pg.databases, store, { application: parseApplicationDeclaration(application) });
  let copies = 0;
  const gate = async (database: string, incidentTime: string, rpoSeconds?: number): Promise<ValidationGateResult> => {
    const lookup = await activities.findValidationBaseline({ database: source, at: incidentTime });
    return activities.runValidationChecks(validationGateInput(database, { incidentTime, ...(rpoSeconds ? { rpoSeconds } : {}) }, lookup));
  };
  return {
    activities,
    store,
    /** Reads a baseline from `copy` for a backup that ran at `at`, and records it as good. */
    async takeBaseline(copy: string, label: string, at: string) {
      const backup = { label, startedAt: at, stoppedAt: at };
      const summary = await activities.captureBaseline({ database: copy, source, backup });
      await activities.recordBaselineVerdict({ database: source, backup, baselineKey: summary.baselineKey, verification: { ok: true, report: 'test: a copy of the backup' }, checks: { passed: true, failed: [] } });
      return summary;
    },
    /** findValidationBaseline, then runValidationChecks with validationGateInput: what validateRecoveredDatabase does. */
    gate,
    /** A fresh copy of `template` with `sql` applied by the superuser, through the gate, then dropped. */
    async gateOnCopy(template: string, sql: string | undefined, incidentTime: string): Promise<ValidationGateResult> {
      const name = `${template}-copy-${++copies}`;
      await pg.createDatabase(name, undefined, { template });
      try {
        if (sql) await pg.sql(name, sql);
        return await gate(name, incidentTime);
      } finally {
        await pg.dropDatabase(name);
      }
    },
  };
}

/** The ids of the checks that block the gate. */
export const blockingChecks = (result: ValidationGateResult) => result.checks.filter((c) => c.verdict === 'fail' || c.verdict === 'error').map((c) => c.id);
