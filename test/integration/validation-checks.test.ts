import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ValidationGateResult } from '../../activities/validation';
import { loadBaseline, saveBaseline } from '../../activities/validation/baseline';
import { runCheck } from '../../activities/validation/checks';
import { measureDatabase } from '../../activities/validation/measure';
import { rowHashSql } from '../../activities/validation/row-hash';
import { financialApplication } from '../../demo/financial-application';
import { startTestPostgres, type TestPostgres } from '../support/postgres';
import { testGate } from '../support/validation-gate';

// Each built-in check against a real PostgreSQL 15: it passes on a clean copy and fails on a copy
// corrupted the way it guards against (the corpus of whole corruptions is validation-corpus.test.ts).
// Every copy is seeded identically, so one baseline fits all.
const dataset = { size: { users: 200, transactionsPerUser: 20 }, seed: 3 };
const foreignKeyCount = 6; // accounts, transactions ×2, savings_goals, subscriptions, audit_logs
const backupAt = '2025-01-01T01:10:00.000Z';
let pg: TestPostgres;
let gate: ReturnType<typeof testGate>;
let activities: ReturnType<typeof testGate>['activities'];
let baselineKey: string;
let incidentTime: string; // a minute after the newest transaction of the clean dataset

before(async () => {
  pg = await startTestPostgres();
  gate = testGate(pg, financialApplication);
  activities = gate.activities;
  await pg.createDatabase('clean', dataset);
  ({ baselineKey } = await gate.takeBaseline('clean', '20250101-011000F', backupAt));
  const [newest] = await pg.sql('clean', 'SELECT max(created_at) AS at FROM transactions');
  incidentTime = new Date((newest!.at as Date).getTime() + 60_000).toISOString();
});

after(async () => {
  await pg?.stop();
});

/** A fresh copy of the clean dataset with `corruption` applied by the superuser. */
async function corruptedCopy(name: string, corruption: string): Promise<void> {
  await pg.createDatabase(name, dataset);
  await pg.sql(name, corruption);
}

/** The checks alone (no baseline: the comparisons with one are the corpus's business). */
const validate = (database: string, extra: { incidentTime?: string; baselineKey?: string } = {}) => activities.runValidationChecks({ database, incidentTime, ...extra });
const notPassing = (result: ValidationGateResult) => result.checks.filter((c) => c.verdict !== 'pass').map((c) => c.name);
const check = (result: ValidationGateResult, prefix: string) => {
  const found = result.checks.filter((c) => c.name.startsWith(prefix));
  assert.equal(found.length, 1, `exactly one check starts with "${prefix}"`);
  return found[0]!;
};

test('every built-in check passes on a clean copy, and each reports its value and expectation', async () => {
  const result = await validate('clean', { baselineKey });
  assert.deepEqual(notPassing(result), []);
  assert.equal(result.passed, true);
  assert.deepEqual(result.skipped, []);
  assert.deepEqual(result.review, []);
  // Orphans and integrity per FK; ledger, ownership, currency, business key; a future bound per dated
  // table (4) and the recency of transactions; with the baseline: schema, history of 2 tables, reconciliation.
  assert.equal(result.checks.length, foreignKeyCount * 2 + 4 + 4 + 1 + 1 + 2 + 1);
  assert.equal(result.checks.filter((c) => c.name.startsWith('No orphaned records: ')).length, foreignKeyCount);
  assert.ok(result.checks.some((c) => c.name === 'No orphaned records: savings_goals.user_id → users.id'));
  assert.equal(check(result, 'Recent data integrity').value, '60.000');
  assert.equal(check(result, 'Recent data integrity').expectation, 'between -30 and 900');
  for (const c of result.checks) assert.ok(c.expectation.length > 0 && c.message.length > 0, `${c.name} explains itself`);
  // The first line names the path the gate took (a baseline from a copy that is no restored backup: the full gate), then one per check.
  assert.equal(result.path?.kind, 'full');
  assert.match(result.summary[0]!, /^Full validation gate: the baseline of backup \S+ has no segment totals/);
  assert.equal(result.summary.length, result.checks.length + 1);
  assert.ok(result.summary.slice(1).every((line) => line.startsWith('✅ ')));
  assert.equal(new Set(result.checks.map((c) => c.id)).size, result.checks.length, 'ids are unique');
});

test('an orphan planted behind a disabled FK trigger fails the orphan check of that FK, naming the row', async () => {
  await corruptedCopy('orphan', `
    ALTER TABLE transactions DISABLE TRIGGER ALL;
    INSERT INTO transactions (id, account_id, user_id, amount, description, created_at) VALUES (900001, 999999, 1, 0, 'orphan', timestamptz '2025-01-01');
    ALTER TABLE transactions ENABLE TRIGGER ALL;`);
  const result = await validate('orphan');
  assert.equal(result.passed, false);
  assert.deepEqual(notPassing(result), ['No orphaned records: transactions.account_id → accounts.id']);
  const orphan = check(result, 'No orphaned records: transactions.account_id');
  assert.equal(orphan.verdict, 'fail');
  assert.equal(orphan.value, '1 rows');
  assert.deepEqual(orphan.sample, [{ id: '900001', account_id: '999999' }]);
  assert.ok(result.summary.some((l) => l.startsWith('❌ No orphaned records: transactions.account_id → accounts.id: 1 rows (expected no rows)')));
});

test('an orphan behind a NOT VALID constraint fails both the orphan and the referential-integrity check', async () => {
  await corruptedCopy('not-valid', `
    ALTER TABLE savings_goals DROP CONSTRAINT savings_goals_user_id_fkey;
    INSERT INTO savings_goals (id, user_id, name, target_amount) VALUES (900001, 999999, 'orphan goal', 10);
    ALTER TABLE savings_goals ADD CONSTRAINT savings_goals_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) NOT VALID;`);
  const result = await validate('not-valid');
  assert.deepEqual(notPassing(result).sort(), [
    'No orphaned records: savings_goals.user_id → users.id',
    'Referential integrity: savings_goals_user_id_fkey (savings_goals.user_id → users.id) validated and enforced',
  ]);
  assert.deepEqual(check(result, 'Referential integrity: savings_goals_user_id_fkey').sample, [{ constraint_name: 'savings_goals_user_id_fkey', validated: false, disabled_triggers: 0 }]);
});

test('FK triggers left disabled fail the referential-integrity check; a new FK is covered without code changes', async () => {
  await corruptedCopy('triggers-off', `
    CREATE TABLE refunds (id bigint PRIMARY KEY, transaction_id bigint NOT NULL REFERENCES transactions(id), amount numeric(14,2) NOT NULL);
    INSERT INTO refunds VALUES (1, 5, 1.00);
    ALTER TABLE subscriptions DISABLE TRIGGER ALL;`);
  const result = await validate('triggers-off');
  assert.deepEqual(notPassing(result), ['Referential integrity: subscriptions_user_id_fkey (subscriptions.user_id → users.id) validated and enforced']);
  assert.equal(check(result, 'Referential integrity: subscriptions_user_id_fkey').sample?.[0]?.disabled_triggers, 2);
  assert.equal(check(result, 'No orphaned records: refunds.transaction_id → transactions.id').verdict, 'pass');
  assert.equal(check(result, 'Referential integrity: refunds_transaction_id_fkey').verdict, 'pass');
});

test('a balance that no longer equals its ledger fails the financial-calculations check, showing both figures', async () => {
  await corruptedCopy('balance', `UPDATE accounts SET balance = balance + 10.01 WHERE id = 5`);
  const [figures] = await pg.sql('balance', `SELECT (SELECT balance::text FROM accounts WHERE id = 5) AS balance,
    (SELECT coalesce(sum(amount), 0)::text FROM transactions WHERE account_id = 5) AS ledger`);
  assert.notEqual(figures!.balance, figures!.ledger);
  const result = await validate('balance');
  assert.deepEqual(notPassing(result), ['Financial calculations validate: every accounts.balance equals the sum of its transactions.amount']);
  const balances = check(result, 'Financial calculations validate');
  assert.equal(balances.value, '1 rows');
  assert.deepEqual(balances.sample, [{ account_id: '5', balance: figures!.balance, ledger_sum: figures!.ledger }]);
});

test('old data only (the newest half hour missing) fails the recent-data check against the incident time', async () => {
  await corruptedCopy('stale', `
    DELETE FROM transactions WHERE created_at > timestamptz '2025-01-01' + interval '2000 seconds';
    UPDATE accounts a SET balance = coalesce((SELECT sum(amount) FROM transactions t WHERE t.account_id = a.id), 0);`);
  const result = await validate('stale', { incidentTime });
  const recent = check(result, 'Recent data integrity');
  assert.equal(recent.verdict, 'fail');
  assert.equal(recent.value, '2060.000');
  assert.equal(recent.message, '2060.000 is above the maximum 900');
  assert.equal(check(result, 'Financial calculations validate').verdict, 'pass');
  // The clean copy is old too when the incident is now: the RPO is measured from the incident time.
  assert.equal(check(await validate('clean', { incidentTime: new Date().toISOString() }), 'Recent data integrity').verdict, 'fail');
});

test('a check over its own timeout is an error with the database message, not a silent failure', async () => {
  const result = await runCheck(await pg.databases.pool('clean'), { name: 'slow', sql: 'SELECT pg_sleep(5)', expectation: { kind: 'zeroRows' }, timeoutMs: 200 });
  assert.equal(result.verdict, 'error');
  assert.equal(result.value, null);
  assert.match(result.message, /statement timeout/);
  // The timeout was local to that check's transaction: the pool's next query is not limited.
  assert.equal((await (await pg.databases.pool('clean')).query("SELECT current_setting('statement_timeout') AS t")).rows[0].t, '0');
});

test('without a baseline the comparisons with one are listed as skipped, with the reason', async () => {
  const result = await activities.runValidationChecks({ database: 'clean', incidentTime });
  assert.equal(result.passed, true);
  assert.deepEqual(result.skipped.map((s) => s.id), ['reconciliation']);
  assert.equal(result.noBaseline, 'no baseline was given to the gate (baselineKey)');
  assert.equal(result.reconciliation, undefined);
});

test('without an application declared, the checks read from the catalog still run and the rest say why they are skipped', async () => {
  const bare = (await import('../../activities/validation')).createValidationActivities(pg.databases, gate.store);
  const result = await bare.runValidationChecks({ database: 'clean', incidentTime });
  assert.equal(result.passed, true);
  assert.equal(result.checks.length, foreignKeyCount * 2);
  assert.deepEqual(result.skipped.map((s) => s.id), ['ledger', 'ownership', 'currency', 'business-key', 'time-bounds', 'reconciliation']);
  assert.match(result.skipped[0]!.reason, /declares no application/);
});

test('a declaration that names what the database lacks fails its own check, naming each, and the checks it feeds are skipped', async () => {
  const wrong = testGate(pg, { ...financialApplication, tables: { ...financialApplication.tables, refunds: { key: 'id' } }, currency: [{ table: 'transactions', column: 'iso_currency', through: 'account_id', parent: 'accounts', parentColumn: 'currency' }] });
  const result = await wrong.activities.runValidationChecks({ database: 'clean', incidentTime });
  assert.equal(result.passed, false);
  assert.deepEqual(notPassing(result), ['The application declared in the worker config matches the database']);
  assert.match(check(result, 'The application declared').message, /problem table refunds is declared but not in the database; problem currency\.0: column transactions\.iso_currency is not in the database/);
});

test('bad input is refused naming the field, before touching a database', async () => {
  const refused = async (input: unknown) => activities.runValidationChecks(input as never).then(() => assert.fail('accepted'), (e: { type?: string; nonRetryable?: boolean; message: string }) => e);
  const unknown = await refused({ database: 'nowhere' });
  assert.equal(unknown.type, 'InvalidInput');
  assert.equal(unknown.nonRetryable, true);
  assert.match(unknown.message, /^database: database "nowhere" is not in the worker config/);
  assert.match((await refused({ database: 'postgres://u:p@h/db' })).message, /^database: must be a config name/);
  assert.match((await refused({ database: 'clean', incidentTime: 'yesterday' })).message, /^incidentTime: must be an ISO 8601 instant/);
  assert.match((await refused({ database: 'clean', baselineKey: 'baselines/clean/none.json' })).message, /^baselineKey: no baseline stored under/);
  assert.match((await activities.captureBaseline({ database: 'clean', backup: { label: '../etc', startedAt: backupAt, stoppedAt: backupAt } }).then(() => assert.fail('accepted'), (e: Error) => e)).message, /^backup\.label: must be the backup's label/);
  assert.match((await activities.findValidationBaseline({ database: 'production', at: 'soon' }).then(() => assert.fail('accepted'), (e: Error) => e)).message, /^at: must be an ISO 8601 instant/);
});

test('data rolled back in place keeps the writes after the incident: with notDatedAfter now they are neither future-dated nor stale, by default they are future-dated', async () => {
  await corruptedCopy('kept-writes', `
    WITH t AS (INSERT INTO transactions (account_id, user_id, amount, description) SELECT id, user_id, 3.00, 'after the migration' FROM accounts WHERE id = 9 RETURNING account_id, amount)
    UPDATE accounts a SET balance = a.balance + t.amount FROM t WHERE a.id = t.account_id;`);
  const kept = await activities.runValidationChecks({ database: 'kept-writes', incidentTime, notDatedAfter: 'now' });
  assert.deepEqual(notPassing(kept), []);
  assert.match(check(kept, 'Time bounds: no transactions row').name, /dated after now plus the clock skew/);
  assert.match(check(kept, 'Recent data integrity').expectation, /^at most 900$/);
  const restored = await activities.runValidationChecks({ database: 'kept-writes', incidentTime });
  assert.deepEqual(notPassing(restored), [`Time bounds: no transactions row dated after the incident time ${incidentTime} plus the clock skew (30 s)`]);
});

test('a baseline records its row hash (the seeded extended hash); one of format 2 (md5 of the row text) still compares with md5, and still names a changed range', async () => {
  const stored = (await loadBaseline(gate.store, baselineKey))!;
  assert.equal(stored.formatVersion, 3);
  const history = stored.tables.transactions!.history!;
  assert.equal(history.rowHash?.algorithm, 'column-hash-extended');
  // A format 2 baseline of the same copy: the same plan with no row hash recorded, measured (md5) and stored as format 2 stored it.
  const plans = Object.entries(stored.tables).map(([table, t]) => {
    if (!t.history) return { table, money: Object.keys(t.money) };
    const { rowHash: _, rows: _r, sums: _s, hash: _h, maxKey: _m, ranges: _g, ...plan } = t.history;
    return { table, money: Object.keys(t.money), history: plan };
  });
  const measured = await measureDatabase(await pg.databases.pool('clean'), plans, { statementTimeoutMs: 60_000 });
  assert.deepEqual(measured.problems, {});
  assert.equal(measured.tables.transactions!.history!.rowHash, undefined);
  assert.notEqual(measured.tables.transactions!.history!.hash, history.hash, 'md5 and the extended hash give different sums');
  const oldKey = 'baselines/production/format-2.json';
  await saveBaseline(gate.store, oldKey, { ...stored, formatVersion: 2, tables: measured.tables });
  const clean = await validate('clean', { baselineKey: oldKey });
  assert.equal(check(clean, 'History that must not change: transactions').verdict, 'pass');
  assert.equal(clean.passed, true, clean.summary.join('\n'));
  await corruptedCopy('md5-edited', `UPDATE transactions SET description = description || ' (edited)' WHERE id = 777`);
  const edited = await validate('md5-edited', { baselineKey: oldKey });
  assert.match(check(edited, 'History that must not change: transactions').message, /id 769–784: content changed/);
});

test('the cheaper forms of the row hash (a numeric(p,s) column\'s fixed scale, a timestamptz at offset zero) give every row the hash the general forms give, NULLs and infinities included', async () => {
  const stored = (await loadBaseline(gate.store, baselineKey))!;
  const rowHash = stored.tables.transactions!.history!.rowHash;
  assert.equal(rowHash?.algorithm, 'column-hash-extended');
  const columns = ['amount', 'created_at'];
  const hashes = { ...rowHash, kinds: { amount: 'numeric', created_at: 'timestamp' } } as const;
  const col = (c: string) => `v.${c}`;
  const general = rowHashSql(hashes, columns, col).row;
  const cheaper = rowHashSql(hashes, columns, col, new Map([['amount', 'numeric(14,2)'], ['created_at', 'timestamp with time zone']])).row;
  assert.notEqual(cheaper, general);
  assert.match(cheaper, /AT TIME ZONE INTERVAL '0'/);
  assert.doesNotMatch(cheaper, /scale\(/);
  const rows = `SELECT amount, created_at FROM transactions
    UNION ALL SELECT a::numeric(14,2), t::timestamptz FROM (VALUES (NULL, NULL), ('-0.01', 'infinity'), ('99999999.99', '-infinity'), ('0', '1999-12-31 23:59:59.999999+05:30')) x(a, t)`;
  const [result] = await pg.sql('clean', `SET TimeZone = 'UTC';
    SELECT count(*)::int AS rows, count(*) FILTER (WHERE ${general} IS DISTINCT FROM ${cheaper})::int AS differing FROM (${rows}) v`);
  assert.ok((result!.rows as number) > 4000, String(result!.rows));
  assert.equal(result!.differing, 0);
});

test('a baseline whose row hash this server computes otherwise (another byte order) blocks the history check with the reason, not a list of every range', async () => {
  const stored = (await loadBaseline(gate.store, baselineKey))!;
  const history = stored.tables.transactions!.history!;
  assert.equal(history.rowHash?.algorithm, 'column-hash-extended');
  const elsewhere = { ...history, rowHash: { ...history.rowHash, probe: '42' } };
  const key = 'baselines/production/other-platform.json';
  await saveBaseline(gate.store, key, { ...stored, tables: { ...stored.tables, transactions: { ...stored.tables.transactions!, history: elsewhere } } });
  const result = await validate('clean', { baselineKey: key });
  const checked = check(result, 'History that must not change: transactions');
  assert.equal(checked.verdict, 'error');
  assert.match(checked.message, /^the history could not be read: this server hashes values unlike the one the baseline was taken on \(another platform or byte order: probe -?\d+, baseline 42\); take a new baseline on this platform$/);
  assert.equal(result.passed, false);
});
