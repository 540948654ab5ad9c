import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createValidationActivities, type ValidationGateResult } from '../../activities/validation';
import { runCheck } from '../../activities/validation/checks';
import { createMemoryObjectStore } from '../support/memory-object-store';
import { startTestPostgres, type TestPostgres } from '../support/postgres';

// Each built-in check against a real PostgreSQL 15: it passes on a clean copy and fails on a copy
// corrupted the way it guards against. Every copy is seeded identically, so one baseline fits all.
const dataset = { size: { users: 200, transactionsPerUser: 20 }, seed: 3 };
const foreignKeyCount = 6; // accounts, transactions ×2, savings_goals, subscriptions, audit_logs
let pg: TestPostgres;
let activities: ReturnType<typeof createValidationActivities>;
let baselineKey: string;
let incidentTime: string; // a minute after the newest transaction of the clean dataset

before(async () => {
  pg = await startTestPostgres();
  activities = createValidationActivities(pg.databases, createMemoryObjectStore());
  await pg.createDatabase('clean', dataset);
  ({ baselineKey } = await activities.captureBaseline({ database: 'clean', backupLabel: '20250101-000000F' }));
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

const validate = (database: string, extra: { incidentTime?: string } = {}) => activities.runValidationChecks({ database, baselineKey, incidentTime, ...extra });
const notPassing = (result: ValidationGateResult) => result.checks.filter((c) => c.verdict !== 'pass').map((c) => c.name);
const check = (result: ValidationGateResult, prefix: string) => {
  const found = result.checks.filter((c) => c.name.startsWith(prefix));
  assert.equal(found.length, 1, `exactly one check starts with "${prefix}"`);
  return found[0]!;
};

test('every built-in check passes on a clean copy, and each reports its value and expectation', async () => {
  const result = await validate('clean');
  assert.deepEqual(notPassing(result), []);
  assert.equal(result.passed, true);
  assert.deepEqual(result.skipped, []);
  // 3 figure checks + orphans per FK + balances + recent data + integrity per FK + FKs as in the baseline.
  assert.equal(result.checks.length, 3 + foreignKeyCount + 1 + 1 + foreignKeyCount + 1);
  assert.equal(result.checks.filter((c) => c.name.startsWith('No orphaned records: ')).length, foreignKeyCount);
  assert.ok(result.checks.some((c) => c.name === 'No orphaned records: savings_goals.user_id → users.id'));
  const users = check(result, 'User count matches expected range');
  assert.equal(users.value, '200');
  assert.equal(users.expectation, 'between 198 and 202');
  assert.equal(check(result, 'Transaction count within').value, '4000');
  assert.match(check(result, 'Transaction total within').expectation, /^within 1% of baseline -?\d+\.\d\d$/);
  assert.equal(check(result, 'Recent data integrity').value, '60.000');
  for (const c of result.checks) assert.ok(c.expectation.length > 0 && c.message.length > 0, `${c.name} explains itself`);
  assert.equal(result.summary.length, result.checks.length);
  assert.ok(result.summary.every((line) => line.startsWith('✅ ')));
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

test('a foreign key dropped since the baseline fails the baseline integrity check, naming it', async () => {
  await corruptedCopy('fk-dropped', `ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_user_id_fkey`);
  const result = await validate('fk-dropped');
  assert.deepEqual(notPassing(result), ['Referential integrity: every foreign key of the baseline is still defined']);
  assert.deepEqual(check(result, 'Referential integrity: every foreign key of the baseline').sample, [{ missing_foreign_key: 'subscriptions.subscriptions_user_id_fkey' }]);
});

test('a balance that no longer equals its ledger fails the financial-calculations check, showing both figures', async () => {
  await corruptedCopy('balance', `UPDATE accounts SET balance = balance + 10.01 WHERE id = 5`);
  const [figures] = await pg.sql('balance', `SELECT (SELECT balance::text FROM accounts WHERE id = 5) AS balance,
    (SELECT coalesce(sum(amount), 0)::text FROM transactions WHERE account_id = 5) AS ledger`);
  assert.notEqual(figures!.balance, figures!.ledger);
  const result = await validate('balance');
  assert.deepEqual(notPassing(result), ['Financial calculations validate: every account balance equals the sum of its transactions']);
  const balances = check(result, 'Financial calculations validate');
  assert.equal(balances.value, '1 rows');
  assert.deepEqual(balances.sample, [{ account_id: '5', balance: figures!.balance, ledger_sum: figures!.ledger }]);
});

test('rows deleted since the baseline fail the user count and the transaction count and total checks', async () => {
  // Users 181-200 and everything they own are gone; the rest stays consistent (no orphans, balances match).
  await corruptedCopy('deleted', `
    DELETE FROM transactions WHERE user_id > 180; DELETE FROM savings_goals WHERE user_id > 180;
    DELETE FROM subscriptions WHERE user_id > 180; DELETE FROM audit_logs WHERE user_id > 180;
    DELETE FROM accounts WHERE user_id > 180; DELETE FROM users WHERE id > 180;`);
  const result = await validate('deleted');
  assert.deepEqual(notPassing(result), [
    'User count matches expected range',
    'Transaction count within acceptable variance of the baseline',
    'Transaction total within acceptable variance of the baseline',
  ]);
  const users = check(result, 'User count matches expected range');
  assert.equal(users.value, '180');
  assert.equal(users.message, '180 is below the minimum 198');
  assert.match(check(result, 'Transaction count within').message, /^3\d\d\d is not within 1% of baseline 4000$/);

  // The baseline reconciliation says the same in the seed's report style.
  const reconciliation = await activities.reconcileWithBaseline({ database: 'deleted', baselineKey });
  assert.equal(reconciliation.lines[0]!.line, 'User Accounts: 180 (baseline: 200) ❌');
  assert.match(reconciliation.lines[1]!.line, /^Total Transactions: 3,\d{3} \(baseline: 4,000\) ❌$/);
  assert.equal(reconciliation.verdict, 'mismatch');
  assert.ok(reconciliation.lines.some((l) => l.metric.startsWith('accountBuckets.') && l.verdict !== 'match'), 'the differing account buckets are listed');
});

test('a baseline is stored with its backup, and a clean copy reconciles ✅ on every line', async () => {
  assert.equal(baselineKey, 'baselines/clean/20250101-000000F.json');
  const reconciliation = await activities.reconcileWithBaseline({ database: 'clean', baselineKey });
  assert.equal(reconciliation.verdict, 'match');
  assert.equal(reconciliation.lines[0]!.line, 'User Accounts: 200 (baseline: 200) ✅');
  assert.equal(reconciliation.lines[1]!.line, 'Total Transactions: 4,000 (baseline: 4,000) ✅');
  assert.match(reconciliation.lines[2]!.line, /^Transaction Sum: -?\$[\d,]+\.\d\d \(baseline: -?\$[\d,]+\.\d\d\) ✅$/);
  assert.ok(reconciliation.lines.every((l) => !l.metric.startsWith('accountBuckets.')), 'no bucket lines when nothing differs');
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

test('without a baseline the baseline checks are listed as skipped, with the reason', async () => {
  const result = await activities.runValidationChecks({ database: 'clean', incidentTime });
  assert.equal(result.passed, true);
  assert.deepEqual(result.skipped.map((s) => s.name), ['Transaction count within acceptable variance of the baseline', 'Transaction total within acceptable variance of the baseline', 'Referential integrity: every foreign key of the baseline is still defined']);
  assert.match(result.skipped[0]!.reason, /no baseline given/);
  assert.equal(check(result, 'User count matches expected range').expectation, 'at least 1');
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
  assert.match((await activities.captureBaseline({ database: 'clean', backupLabel: '../etc' }).then(() => assert.fail('accepted'), (e: Error) => e)).message, /^backupLabel: /);
});
