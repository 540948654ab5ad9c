import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pool } from 'pg';
import { builtInChecks, resolveDeclaration } from '../../activities/validation/built-in-checks';
import { runChecks, type CheckDefinition } from '../../activities/validation/checks';
import { parseApplicationDeclaration } from '../../activities/validation/declaration';
import { readScreenCatalog, screenChecks, screenedTogether, screenPlan } from '../../activities/validation/screening';
import { listForeignKeys } from '../../activities/validation/schema-catalog';
import { financialApplication } from '../../demo/financial-application';
import { startTestPostgres, type TestPostgres } from '../support/postgres';

// The one-pass screen of the transactions' checks (orphans of both foreign keys, the ledger by its random
// sketch, owner and currency) on a real PostgreSQL 15: clean on a clean copy, "maybe" for each kind of
// corruption wherever it is (the first key, the last), including two balance errors that cancel in every
// total; and the business key proven by its unique index only while that index is valid.
const dataset = { size: { users: 40, transactionsPerUser: 10 }, seed: 11 };
let pg: TestPostgres;
let copies = 0;

before(async () => {
  pg = await startTestPostgres();
  await pg.createDatabase('golden', dataset, { pool: false });
});

after(async () => {
  await pg?.stop();
});

async function checksOf(pool: Pool): Promise<CheckDefinition[]> {
  const app = parseApplicationDeclaration(financialApplication);
  return builtInChecks({
    foreignKeys: await listForeignKeys(pool), app, resolved: await resolveDeclaration(pool, app),
    rpoSeconds: 900, clockSkewSeconds: 30, recency: false, notDatedAfter: 'now', timeoutMs: 30_000,
  }).checks;
}

/** A fresh copy of the golden database with `sql` applied, and the transactions' screened checks on it. */
async function copyWith(sql?: string): Promise<{ pool: Pool; name: string; screened: CheckDefinition[]; checks: CheckDefinition[] }> {
  const name = `copy${++copies}`;
  const pool = (await pg.createDatabase(name, undefined, { template: 'golden' }))!;
  if (sql) await pg.sql(name, sql);
  const checks = await checksOf(pool);
  const members = screenedTogether(checks).get('transactions')!;
  return { pool, name, checks, screened: members.map((i) => checks[i]!) };
}

/** The screen's answer per check id. */
async function screen(pool: Pool, screened: CheckDefinition[]): Promise<Record<string, boolean>> {
  const found = await screenChecks(pool, screened, {});
  return Object.fromEntries(screened.map((c, i) => [c.id!, found[i]!]));
}

const ledger = 'ledger:accounts.balance';
const bounds = async (name: string) => (await pg.sql(name, 'SELECT min(id)::int AS first, max(id)::int AS last FROM accounts'))[0] as { first: number; last: number };

test('screen: on a clean copy one pass proves every transactions check clean, the ledger by its sketch (no check left unscreened)', async () => {
  const { pool, screened } = await copyWith();
  assert.deepEqual(screened.map((c) => c.id).sort(), [ledger, 'currency:transactions.currency', 'orphans:transactions.transactions_account_id_fkey', 'orphans:transactions.transactions_user_id_fkey', 'ownership:transactions.user_id'].sort());
  const client = await pool.connect();
  try {
    const plan = screenPlan(screened, await readScreenCatalog(client, screened.map((c) => c.screen!)));
    assert.ok(plan.answers.every((a) => a !== undefined), 'every check answered by the screen');
    assert.equal((plan.sql.match(/LEFT JOIN/g) ?? []).length, 1, 'accounts joined once; the owner\'s orphans derived through it, users not joined');
    assert.doesNotMatch(plan.sql, /GROUP BY/);
  } finally {
    client.release();
  }
  assert.deepEqual(Object.values(await screen(pool, screened)).filter(Boolean), []);
});

test('screen: two compensating balance errors (+0.01 on the first account, −0.01 on the last) keep every total but not the sketch; the exact check names both', async () => {
  const { first, last } = await bounds('golden');
  const { pool, screened, checks } = await copyWith(`UPDATE accounts SET balance = balance + 0.01 WHERE id = ${first}; UPDATE accounts SET balance = balance - 0.01 WHERE id = ${last};`);
  const found = await screen(pool, screened);
  assert.equal(found[ledger], true, 'the ledger is "maybe"');
  assert.deepEqual(Object.entries(found).filter(([id, f]) => f && id !== ledger), [], 'nothing else is');
  const result = (await runChecks(pool, checks, { concurrency: 2 })).find((r) => r.id === ledger)!;
  assert.equal(result.verdict, 'fail');
  assert.match(result.message, new RegExp(`^2 offending rows: account_id ${first}, .*; account_id ${last}, `));
});

test('screen: a balance off by 0.01 at the first and at the last account, each on its own, makes the ledger "maybe"', async () => {
  const { first, last } = await bounds('golden');
  for (const id of [first, last]) {
    const { pool, screened } = await copyWith(`UPDATE accounts SET balance = balance + 0.01 WHERE id = ${id}`);
    assert.equal((await screen(pool, screened))[ledger], true, `account ${id}`);
  }
});

test('screen: a NULL amount, a NULL balance and an entry moved between two accounts (totals kept) each make the ledger "maybe"', async () => {
  const { first, last } = await bounds('golden');
  for (const sql of [
    'ALTER TABLE transactions ALTER COLUMN amount DROP NOT NULL; UPDATE transactions SET amount = NULL WHERE id = (SELECT max(id) FROM transactions WHERE amount <> 0)',
    `ALTER TABLE accounts ALTER COLUMN balance DROP NOT NULL; UPDATE accounts SET balance = NULL WHERE id = ${first}`,
    `UPDATE transactions SET account_id = ${last} WHERE id = (SELECT min(id) FROM transactions WHERE account_id = ${first} AND amount <> 0)`,
  ]) {
    const { pool, screened } = await copyWith(sql);
    assert.equal((await screen(pool, screened))[ledger], true, sql);
  }
});

test('screen: an orphan at the first and at the last transaction, a foreign owner and a foreign currency are each "maybe" for their own checks only', async () => {
  const { first, last } = (await pg.sql('golden', 'SELECT min(id)::int AS first, max(id)::int AS last FROM transactions'))[0] as { first: number; last: number };
  const cases: Array<[string, ...string[]]> = [
    // Its owner is then on a row without a matched account: the owner's orphan check cannot be derived and is "maybe" too.
    [`ALTER TABLE transactions DISABLE TRIGGER ALL; UPDATE transactions SET account_id = 999999 WHERE id = ${first}; ALTER TABLE transactions ENABLE TRIGGER ALL;`, 'orphans:transactions.transactions_account_id_fkey', 'orphans:transactions.transactions_user_id_fkey'],
    // An owner gone from users, consistently on its account and every transaction of it: only the accounts' side statement sees it.
    [`ALTER TABLE transactions DISABLE TRIGGER ALL; ALTER TABLE accounts DISABLE TRIGGER ALL;
      UPDATE accounts SET user_id = 999999 WHERE id = (SELECT account_id FROM transactions WHERE id = ${last}); UPDATE transactions SET user_id = 999999 WHERE account_id = (SELECT account_id FROM transactions WHERE id = ${last});
      ALTER TABLE transactions ENABLE TRIGGER ALL; ALTER TABLE accounts ENABLE TRIGGER ALL;`, 'orphans:transactions.transactions_user_id_fkey'],
    [`ALTER TABLE transactions DISABLE TRIGGER ALL; UPDATE transactions SET user_id = 999999 WHERE id = ${last}; ALTER TABLE transactions ENABLE TRIGGER ALL;`, 'orphans:transactions.transactions_user_id_fkey', 'ownership:transactions.user_id'],
    // The owner's orphan check is derived through the owner check: an owner that differs may be an orphan.
    [`UPDATE transactions SET user_id = (SELECT max(id) FROM users) WHERE id = ${first} AND user_id <> (SELECT max(id) FROM users)`, 'ownership:transactions.user_id', 'orphans:transactions.transactions_user_id_fkey'],
    [`UPDATE transactions SET currency = 'XTS' WHERE id = ${last}`, 'currency:transactions.currency'],
  ];
  for (const [sql, ...ids] of cases) {
    const { pool, screened } = await copyWith(sql);
    const found = await screen(pool, screened);
    // Moving a transaction's account (the orphan) also moves its amount off the ledger: the ledger may say maybe too.
    assert.deepEqual(Object.entries(found).filter(([k, f]) => f && k !== ledger).map(([k]) => k).sort(), ids.sort(), sql);
  }
});

test('business key: proven by its valid unique index without grouping the table; dropped, or left INVALID by a failed CREATE UNIQUE INDEX CONCURRENTLY, the check runs and names the duplicate', async () => {
  const id = 'business-key:transactions(reference)';
  const clean = await copyWith();
  const proven = (await runChecks(clean.pool, clean.checks, { concurrency: 2 })).find((r) => r.id === id)!;
  assert.equal(proven.verdict, 'pass');
  assert.match(proven.message, /the unique index transactions_reference_key \(valid, immediate, over the whole table\) admits none/);

  const duplicate = `ALTER TABLE transactions DROP CONSTRAINT transactions_reference_key;
    UPDATE transactions SET reference = (SELECT reference FROM transactions ORDER BY id LIMIT 1) WHERE id = (SELECT max(id) FROM transactions);`;
  const dropped = await copyWith(duplicate);
  const found = (await runChecks(dropped.pool, dropped.checks, { concurrency: 2 })).find((r) => r.id === id)!;
  assert.equal(found.verdict, 'fail');
  assert.match(found.message, /rows 2/);

  const invalid = await copyWith(duplicate);
  await assert.rejects(pg.sql(invalid.name, 'CREATE UNIQUE INDEX CONCURRENTLY transactions_reference_again ON transactions (reference)'), /could not create unique index/);
  assert.deepEqual(await pg.sql(invalid.name, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'transactions_reference_again'::regclass`), [{ indisvalid: false }]);
  const again = (await runChecks(invalid.pool, invalid.checks, { concurrency: 2 })).find((r) => r.id === id)!;
  assert.equal(again.verdict, 'fail', again.message);
  assert.match(again.message, /rows 2/);
});
