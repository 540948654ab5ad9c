import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pool } from 'pg';
import { builtInChecks, resolveDeclaration } from '../../activities/validation/built-in-checks';
import { runChecks, type CheckDefinition } from '../../activities/validation/checks';
import { parseApplicationDeclaration } from '../../activities/validation/declaration';
import { runGateReads } from '../../activities/validation/gate-in-snapshot';
import { measureInTransaction } from '../../activities/validation/measure';
import { listForeignKeys } from '../../activities/validation/schema-catalog';
import { financialApplication } from '../../demo/financial-application';
import { startTestPostgres, type TestPostgres } from '../support/postgres';

// The full gate's checks run on several connections beside the measurement on another. A write committed
// while they run must not be seen by some and not by others: on a real PostgreSQL 15, a payment written
// without its balance (what breaks the ledger check) is committed after the gate's first check and
// before the measurement starts; every check and the measurement still describe the instant before it.
const dataset = { size: { users: 50, transactionsPerUser: 10 }, seed: 5 };
let pg: TestPostgres;

before(async () => {
  pg = await startTestPostgres();
});

after(async () => {
  await pg?.stop();
});

async function gateChecks(pool: Pool): Promise<CheckDefinition[]> {
  const app = parseApplicationDeclaration(financialApplication);
  const [newest] = (await pool.query<{ at: Date }>('SELECT max(created_at) AS at FROM transactions')).rows;
  const { checks } = builtInChecks({
    foreignKeys: await listForeignKeys(pool), app, resolved: await resolveDeclaration(pool, app),
    incidentTime: new Date(newest!.at.getTime() + 60_000).toISOString(), rpoSeconds: 900, clockSkewSeconds: 5, recency: true, notDatedAfter: 'incident', timeoutMs: 30_000,
  });
  return checks;
}

/** A payment on account `id` without its balance: the ledger check fails on any snapshot that holds it. */
const unbalancedPayment = (id: number) => `INSERT INTO transactions (account_id, user_id, amount, currency, description, reference, created_at)
  SELECT id, user_id, 10.00, currency, 'card', 'late-' || gen_random_uuid(), now() - interval '1 hour' FROM accounts WHERE id = ${id}`;

test('a write committed between the gate\'s checks is seen by none of them nor by the measurement: they read one exported snapshot', async () => {
  const pool = (await pg.createDatabase('shared', dataset))!;
  const checks = await gateChecks(pool);
  const before = String((await pg.sql('shared', 'SELECT count(*) AS n FROM transactions'))[0]!.n);
  let calls = 0;
  let written: () => void = () => undefined;
  const committed = new Promise<void>((resolve) => (written = resolve));
  const { results, comparison, sharedSnapshot } = await runGateReads(
    pool,
    checks,
    {
      concurrency: 1,
      aggregateMemoryMB: 16,
      // After the first check, before the next: the payment is committed by another session.
      beforeEach: async () => {
        if (++calls === 2) {
          await pg.sql('shared', unbalancedPayment(1));
          written();
        }
      },
    },
    async (client) => {
      await committed;
      return measureInTransaction(client, [{ table: 'transactions', money: ['amount'] }], { statementTimeoutMs: 30_000 });
    },
  );
  assert.equal(sharedSnapshot, true);
  assert.ok(calls > 2, 'the write came before most checks');
  assert.deepEqual(results.filter((r) => r.verdict !== 'pass').map((r) => `${r.id}: ${r.message}`), []);
  assert.equal(comparison!.tables.transactions!.rows, before, 'the measurement counts the rows of the snapshot, not the payment');
  assert.equal(String((await pg.sql('shared', 'SELECT count(*) AS n FROM transactions'))[0]!.n), String(BigInt(before) + 1n), 'the payment is committed');

  // The same payment, seen by checks that read on their own: the ledger check catches it (the write above was real).
  const alone = await runChecks(pool, checks, { concurrency: 1 });
  assert.ok(alone.some((r) => r.id.startsWith('ledger') && r.verdict === 'fail'), alone.map((r) => `${r.id} ${r.verdict}`).join(', '));
});

test('a snapshot id is checked before it is spliced into SET TRANSACTION SNAPSHOT', async () => {
  const pool = (await pg.createDatabase('ids', dataset))!;
  const [check] = await gateChecks(pool);
  const [result] = await runChecks(pool, [check!], { concurrency: 1, snapshot: "x'; SET ROLE postgres; --" });
  assert.equal(result!.verdict, 'error');
  assert.match(result!.message, /not a snapshot id/);
});
