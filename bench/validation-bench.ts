import { Client } from 'pg';
import { createValidationActivities } from '../activities/validation';
import { createAdapters } from '../worker/adapters';
import { createDatabaseConnections } from '../worker/database-connections';
import { timed, type BenchContext } from './context';
import { formatSeconds, median, type BenchResult } from './report-table';
import { describeFailedChecks } from '../contracts/validation';

/**
 * The same figures the gate computes, by hand, in one statement: user count, transaction count and
 * sum, the orphan anti-join of every foreign key of the schema, the balance-vs-ledger join and the
 * newest transaction. The foreign keys are written out from demo/financial-schema.sql.
 */
export const handWrittenGateSql = `
SELECT
  (SELECT count(*) FROM users) AS users,
  t.n AS transactions, t.total AS transaction_sum, t.newest,
  (SELECT count(*) FROM accounts c WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)) AS orphan_accounts,
  (SELECT count(*) FROM transactions c WHERE NOT EXISTS (SELECT 1 FROM accounts p WHERE p.id = c.account_id)) AS orphan_transactions_account,
  (SELECT count(*) FROM transactions c WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)) AS orphan_transactions_user,
  (SELECT count(*) FROM savings_goals c WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)) AS orphan_goals,
  (SELECT count(*) FROM subscriptions c WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)) AS orphan_subscriptions,
  (SELECT count(*) FROM audit_logs c WHERE c.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)) AS orphan_audit_logs,
  (SELECT count(*) FROM accounts a LEFT JOIN (SELECT account_id, sum(amount) AS total FROM transactions GROUP BY account_id) l ON l.account_id = a.id
    WHERE a.balance IS DISTINCT FROM coalesce(l.total, 0)) AS unbalanced_accounts
FROM (SELECT count(*) AS n, coalesce(sum(amount), 0) AS total, max(created_at) AS newest FROM transactions) t`;

/** Validation gate (runValidationChecks, every built-in check, with a baseline) / the hand-written statement. */
export async function benchValidationGate(ctx: BenchContext, repetitions: number): Promise<BenchResult> {
  const adapters = createAdapters(ctx.config);
  const databases = createDatabaseConnections(ctx.config, adapters.secrets, ctx.platform);
  const objectStore = adapters.objectStore;
  const validation = createValidationActivities(databases, objectStore);
  const raw = new Client({ connectionString: ctx.stack.production.url(ctx.stack.databaseName) });
  await raw.connect();
  try {
    ctx.log('validation: capturing a baseline (not timed)');
    const { baselineKey } = await validation.captureBaseline({ database: 'production', backupLabel: 'bench' });
    // The dataset's transactions are dated 2025: the recency check is asked about its own newest row.
    const newest = (await raw.query<{ t: Date }>('SELECT max(created_at) AS t FROM transactions')).rows[0]!.t.toISOString();
    const input = { database: 'production', baselineKey, incidentTime: newest };
    // With one repetition (full scale: minutes per round) the page cache is left as the earlier steps made it.
    let first: Awaited<ReturnType<typeof validation.runValidationChecks>> | undefined;
    if (repetitions > 1) {
      ctx.log('validation: warming up (one hand-written statement, one gate)');
      await raw.query(handWrittenGateSql);
      first = await validation.runValidationChecks(input);
    }
    const gateMs: number[] = [];
    const rawMs: number[] = [];
    for (let i = 1; i <= repetitions; i++) {
      const gate = await timed(() => validation.runValidationChecks(input));
      const hand = await timed(() => raw.query(handWrittenGateSql));
      first ??= gate.value;
      gateMs.push(gate.ms);
      rawMs.push(hand.ms);
      ctx.log(`validation: round ${i}/${repetitions}: gate ${formatSeconds(gate.ms)} (${gate.value.checks.length} checks, ${gate.value.passed ? 'passed' : 'FAILED'}), hand-written ${formatSeconds(hand.ms)}`);
    }
    const ratio = median(gateMs) / median(rawMs);
    return {
      name: 'validation gate / one SQL statement',
      figure: formatSeconds(median(gateMs)),
      raw: formatSeconds(median(rawMs)),
      ratio,
      goal: '≤ 1.2',
      met: ratio <= 1.2,
      note: `median of ${repetitions}${repetitions > 1 ? ' after a warm-up' : ', no warm-up'}; ${first!.checks.length} checks (${first!.passed ? 'all passed' : `FAILED: ${describeFailedChecks(first!)}`})`,
    };
  } finally {
    await raw.end();
    await databases.close();
  }
}
