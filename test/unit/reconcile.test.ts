import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseApplicationDeclaration, type ApplicationDeclarationInput } from '../../activities/validation/declaration';
import { formatCount, formatMoney, withinRelativeTolerance } from '../../activities/validation/exact-decimal';
import { compareHistory, keyRuns } from '../../activities/validation/history';
import type { HistoryFigures, TableFigures } from '../../activities/validation/measure';
import { reconcile, reconciliationCheck } from '../../activities/validation/reconcile';
import { diffSchema, type SchemaFingerprint } from '../../activities/validation/schema-fingerprint';
import { reconciliationReport } from '../../contracts/validation';

const money = (sum: string, absSum = sum.replace(/^-/, '')) => ({ sum, absSum });
const table = (rows: string, sums: Record<string, string> = {}, history?: HistoryFigures): TableFigures => ({
  rows,
  money: Object.fromEntries(Object.entries(sums).map(([c, s]) => [c, money(s)])),
  ...(history ? { history } : {}),
});
const app = (input: Partial<ApplicationDeclarationInput> = {}) => parseApplicationDeclaration({ tables: {}, ...input });
const lineOf = (lines: ReturnType<typeof reconcile>, metric: string) => lines.find((l) => l.metric === metric)!;

// Seed 000's expected reconciliation report, figure for figure: users within their tolerance, the
// ledger's count too, its sum moved where no change is ordinary (tolerance 0), the goals unchanged.
const seedApp = app({
  tables: {
    users: { key: 'id', labels: { rows: 'User Accounts' } },
    transactions: { key: 'id', money: ['amount'], labels: { rows: 'Total Transactions', amount: 'Transaction Sum' }, tolerance: { money: 0 } },
    savings_goals: { key: 'id', money: ['current_amount'], labels: { current_amount: 'Goals Total' } },
  },
});
const seedBaseline = { users: table('15230'), transactions: table('542100', { amount: '12456123.21' }), savings_goals: table('4000', { current_amount: '5678901.23' }) };
const seedCurrent = { users: table('15234'), transactions: table('542123', { amount: '12456789.45' }), savings_goals: table('4000', { current_amount: '5678901.23' }) };

test('reproduces the seed report lines exactly, labelled lines first in the declared order', () => {
  const lines = reconcile({ baseline: seedBaseline, current: seedCurrent, app: seedApp });
  assert.deepEqual(lines.slice(0, 4).map((l) => l.line), [
    'User Accounts: 15,234 (baseline: 15,230) ✅',
    'Total Transactions: 542,123 (baseline: 542,100) ✅',
    'Transaction Sum: $12,456,789.45 (baseline: $12,456,123.21) ⚠️ REVIEW',
    'Goals Total: $5,678,901.23 (baseline: $5,678,901.23) ✅',
  ]);
  assert.deepEqual(lines.slice(4).map((l) => l.line), ['savings_goals rows: 4,000 (baseline: 4,000) ✅']);
  assert.equal(lineOf(lines, 'users.rows').detail, '+4 rows since the baseline (0.03 %; tolerance 5 %)');
  assert.equal(lineOf(lines, 'transactions.amount.sum').detail, '+$666.24 since the baseline (0.005 % of its $12,456,123.21 in absolute value; tolerance 0 %), in +23 rows: more than the tolerance');
  const check = reconciliationCheck(lines, 'B1', 3);
  assert.equal(check.verdict, 'review');
  assert.equal(check.value, '5 lines: 4 ✅, 1 ⚠️ REVIEW, 0 ❌');
});

test('a mutable table: a change within its tolerance is explained and ✅; growth beyond it ⚠️ REVIEW; a loss beyond it ❌', () => {
  const baseline = { users: table('10000') };
  const rows = (n: string) => lineOf(reconcile({ baseline, current: { users: table(n) }, app: seedApp }), 'users.rows');
  assert.equal(rows('10000').line, 'User Accounts: 10,000 (baseline: 10,000) ✅');
  assert.equal(rows('10000').detail, undefined);
  assert.equal(rows('10500').verdict, 'match');
  assert.equal(rows('9500').verdict, 'match');
  assert.equal(rows('10501').line, 'User Accounts: 10,501 (baseline: 10,000) ⚠️ REVIEW');
  assert.match(rows('10501').detail!, /more growth than the tolerance/);
  assert.equal(rows('9499').line, 'User Accounts: 9,499 (baseline: 10,000) ❌');
  assert.equal(rows('0').detail, '10,000 rows lost since the baseline (-100 %), beyond the tolerance of 5 %');
});

test('money is exact to the cent: within the tolerance (of the absolute sum) ✅ with the amount, beyond it ⚠️ REVIEW', () => {
  const goals = app({ tables: { savings_goals: { key: 'id', money: ['current_amount'], labels: { current_amount: 'Goals Total' }, tolerance: { money: 0.01 } } } });
  const baseline = { savings_goals: { rows: '10', money: { current_amount: money('1000.00', '2000.00') } } };
  const at = (sum: string) => lineOf(reconcile({ baseline, current: { savings_goals: { rows: '10', money: { current_amount: money(sum) } } }, app: goals }), 'savings_goals.current_amount.sum');
  assert.equal(at('1000.00').line, 'Goals Total: $1,000.00 (baseline: $1,000.00) ✅');
  assert.equal(at('1020.00').line, 'Goals Total: $1,020.00 (baseline: $1,000.00) ✅');
  assert.equal(at('1020.00').detail, '+$20.00 since the baseline (1 % of its $2,000.00 in absolute value; tolerance 1 %), in +0 rows');
  assert.equal(at('1020.01').line, 'Goals Total: $1,020.01 (baseline: $1,000.00) ⚠️ REVIEW');
  assert.equal(at('979.99').verdict, 'review');
});

test("a ledger's balances must move exactly as the ledger did since the baseline, to the cent", () => {
  const ledgerApp = app({
    tables: { accounts: { key: 'id', money: ['balance'], labels: { balance: 'Account Balances' } }, transactions: { key: 'id', money: ['amount'] } },
    ledgers: [{ table: 'accounts', balance: 'balance', entries: 'transactions', amount: 'amount', through: 'account_id' }],
  });
  const baseline = { accounts: table('3', { balance: '100.00' }), transactions: table('9', { amount: '100.00' }) };
  const balances = (balance: string, amount: string) => lineOf(reconcile({ baseline, current: { accounts: table('3', { balance }), transactions: table('11', { amount }) }, app: ledgerApp }), 'accounts.balance.sum');
  assert.equal(balances('112.50', '112.50').line, 'Account Balances: $112.50 (baseline: $100.00) ✅');
  assert.equal(balances('112.50', '112.50').detail, '+$12.50 since the baseline, exactly as the ledger transactions.amount moved');
  assert.equal(balances('112.51', '112.50').line, 'Account Balances: $112.51 (baseline: $100.00) ❌');
  assert.equal(balances('112.51', '112.50').detail, '+$12.51 since the baseline, but the ledger transactions.amount moved +$12.50');
});

const history = (ranges: HistoryFigures['ranges'], extra: Partial<HistoryFigures> = {}): HistoryFigures => ({
  key: 'id', createdAt: 'created_at', columns: ['id', 'amount', 'created_at'], money: ['amount'], upTo: '2025-01-01T01:08:30.000Z', base: '1', width: '16',
  rows: String(ranges.reduce((n, r) => n + Number(r.rows), 0)), sums: ['0'], hash: '0:0', maxKey: '48', ranges, ...extra,
});
const range = (index: string, rows: string, amount: string, hash: string) => ({ index, rows, sums: [amount], hash });

test('append-only: history compared range by range; growth after the baseline is explained, and fewer rows than the baseline is ❌', () => {
  const ledgerApp = app({ tables: { transactions: { key: 'id', appendOnly: true, createdAt: 'created_at', money: ['amount'], labels: { rows: 'Total Transactions', amount: 'Transaction Sum' } } } });
  const then = history([range('0', '16', '10.00', '1:2'), range('1', '16', '20.00', '3:4'), range('2', '16', '30.00', '5:6')]);
  const same = compareHistory(then, history([range('0', '16', '10.00', '1:2'), range('1', '16', '20.00', '3:4'), range('2', '16', '30.00', '5:6')]));
  assert.equal(same.equal, true);
  const ledger = (rows: string, sum: string): TableFigures => ({ rows, money: { amount: money(sum, '500.00') }, history: then });
  const grown = reconcile({ baseline: { transactions: ledger('48', '60.00') }, current: { transactions: ledger('50', '65.00') }, app: ledgerApp, history: { transactions: same } });
  assert.equal(lineOf(grown, 'transactions.rows').line, 'Total Transactions: 50 (baseline: 48) ✅');
  assert.equal(lineOf(grown, 'transactions.rows').detail, '+2 rows since the baseline (4.17 %; tolerance 5 %); history up to 2025-01-01T01:08:30.000Z unchanged (48 rows, content hash equal)');
  assert.equal(lineOf(grown, 'transactions.amount.sum').line, 'Transaction Sum: $65.00 (baseline: $60.00) ✅');
  const tooMuch = reconcile({ baseline: { transactions: table('48', { amount: '60.00' }, then) }, current: { transactions: table('60', { amount: '65.00' }, then) }, app: ledgerApp, history: { transactions: same } });
  assert.equal(lineOf(tooMuch, 'transactions.rows').verdict, 'review');
  const fewer = reconcile({ baseline: { transactions: table('48', { amount: '60.00' }, then) }, current: { transactions: table('47', { amount: '60.00' }, then) }, app: ledgerApp, history: { transactions: same } });
  assert.equal(lineOf(fewer, 'transactions.rows').line, 'Total Transactions: 47 (baseline: 48) ❌');

  // A row gone from range 1, a swap in range 2 (same count and sum, other hash), a row added to the past in range 5.
  const tampered = compareHistory(then, history([range('0', '16', '10.00', '1:2'), range('1', '15', '18.00', '9:9'), range('2', '16', '30.00', '7:8'), range('5', '1', '1.00', '1:1')]));
  assert.deepEqual(tampered.differences.map((d) => [d.range, d.change]), [['id 17–32', '1 row missing'], ['id 33–48', 'content changed'], ['id 81–96', '1 row added to the past']]);
  const lines = reconcile({ baseline: { transactions: table('48', { amount: '60.00' }, then) }, current: { transactions: table('48', { amount: '59.00' }) }, app: ledgerApp, history: { transactions: tampered } });
  assert.equal(lineOf(lines, 'transactions.rows').line, 'Total Transactions: 48 (baseline: 48) ❌');
  assert.equal(lineOf(lines, 'transactions.rows').detail, "its history differs from the baseline's in 3 key ranges (see the history check)");
  assert.equal(lineOf(lines, 'transactions.amount.sum').verdict, 'mismatch');
  assert.equal(keyRuns([1n, 2n, 3n, 5n, 7n, 8n]), '1–3, 5, 7–8');
});

test('a table the recovered database lacks is ❌; a table the baseline lacks is ⚠️ REVIEW', () => {
  const lines = reconcile({ baseline: { users: table('5'), transactions: table('7', { amount: '1.00' }) }, current: { users: table('5'), refunds: table('3') }, problems: { transactions: 'no such table' }, app: seedApp });
  assert.equal(lineOf(lines, 'transactions.rows').line, 'Total Transactions: missing (baseline: 7) ❌');
  assert.equal(lineOf(lines, 'transactions.rows').detail, 'the recovered database could not be measured here: no such table');
  assert.equal(lineOf(lines, 'transactions.amount.sum').line, 'Transaction Sum: missing (baseline: $1.00) ❌');
  assert.equal(lineOf(lines, 'refunds.rows').line, 'refunds rows: 3 (baseline: none) ⚠️ REVIEW');
});

test('sums beyond 2^53 stay exact (never floats)', () => {
  const lines = reconcile({ baseline: { transactions: table('1', { amount: '90071992547409.93' }) }, current: { transactions: table('1', { amount: '90071992547409.92' }) }, app: seedApp });
  assert.equal(lineOf(lines, 'transactions.amount.sum').line, 'Transaction Sum: $90,071,992,547,409.92 (baseline: $90,071,992,547,409.93) ⚠️ REVIEW');
  assert.equal(formatMoney('0'), '$0.00');
  assert.equal(formatMoney('-0.5'), '-$0.50');
  assert.equal(formatCount('1234567'), '1,234,567');
  assert.equal(withinRelativeTolerance('101', '100', '0.01'), true);
  assert.equal(withinRelativeTolerance('101.000001', '100', 0.01), false);
  assert.equal(withinRelativeTolerance('0', '0', 0), true);
  assert.equal(withinRelativeTolerance('1', '0', 0.5), false);
  assert.equal(withinRelativeTolerance('100.00001', '100', 1e-7), true);
  assert.equal(formatCount('1.5e3'), '1,500');
});

test('the report says plainly when there was no baseline, and lists the lines with what explains them when there was', () => {
  assert.deepEqual(reconciliationReport({ noBaseline: 'no known good baseline of production from a backup that ended at or before 2026-11-23T03:00:00Z' }), [
    'No baseline: no known good baseline of production from a backup that ended at or before 2026-11-23T03:00:00Z. The recovered data was not reconciled with a known good state (history, schema and totals were not compared).',
  ]);
  const lines = reconcile({ baseline: seedBaseline, current: seedCurrent, app: seedApp });
  const report = reconciliationReport({ baseline: { key: 'k', database: 'production', backupLabel: 'B1', consistentAt: '2026-11-23T02:00:00Z', historyUpTo: '2026-11-23T01:58:30Z' }, reconciliation: lines });
  assert.equal(report[0], 'Against baseline of backup B1 (consistent at 2026-11-23T02:00:00Z; history up to 2026-11-23T01:58:30Z):');
  assert.equal(report[1], 'User Accounts: 15,234 (baseline: 15,230) ✅ — +4 rows since the baseline (0.03 %; tolerance 5 %)');
  assert.deepEqual(reconciliationReport({}), [], 'a result recorded before the gate reconciled');
});

test('the schema fingerprint names what was weakened (NOT NULL, UNIQUE, CHECK, FK, type, index) apart from what was added', () => {
  const print: SchemaFingerprint = {
    columns: [{ table: 't', column: 'id', type: 'bigint', notNull: true }, { table: 't', column: 'ref', type: 'text', notNull: true }, { table: 't', column: 'amount', type: 'numeric(14,2)', notNull: true }],
    constraints: [{ table: 't', name: 't_pkey', kind: 'PRIMARY KEY', definition: 'PRIMARY KEY (id)' }, { table: 't', name: 't_ref_key', kind: 'UNIQUE', definition: 'UNIQUE (ref)' }, { table: 't', name: 't_amount_check', kind: 'CHECK', definition: 'CHECK ((amount > (0)::numeric))' }],
    indexes: [{ table: 't', name: 't_amount_idx', definition: 'CREATE INDEX t_amount_idx ON public.t USING btree (amount)' }],
  };
  const now: SchemaFingerprint = {
    columns: [{ table: 't', column: 'id', type: 'bigint', notNull: true }, { table: 't', column: 'ref', type: 'text', notNull: false }, { table: 't', column: 'amount', type: 'numeric(16,4)', notNull: true }, { table: 't', column: 'note', type: 'text', notNull: false }, { table: 'u', column: 'id', type: 'int', notNull: true }],
    constraints: [{ table: 't', name: 't_pkey', kind: 'PRIMARY KEY', definition: 'PRIMARY KEY (id)' }],
    indexes: [],
  };
  assert.deepEqual(diffSchema(print, now).map((d) => `${d.kind}: ${d.object}: ${d.change}`), [
    'added: table u: added',
    'weakened: t.ref: NOT NULL dropped',
    'weakened: t.amount: type changed: numeric(14,2) → numeric(16,4)',
    'added: t.note: column added (text)',
    'weakened: UNIQUE constraint t_ref_key on t: dropped: UNIQUE (ref)',
    'weakened: CHECK constraint t_amount_check on t: dropped: CHECK ((amount > (0)::numeric))',
    'weakened: index t_amount_idx on t: dropped: CREATE INDEX t_amount_idx ON public.t USING btree (amount)',
  ]);
  assert.deepEqual(diffSchema(print, print), []);
});

test('a declaration is refused naming the field: append-only without createdAt, a label of no money column, a parent not declared', () => {
  assert.throws(() => app({ tables: { ledger: { key: 'id', appendOnly: true } } }), /tables\.ledger\.createdAt: is required for an append-only table/);
  assert.throws(() => app({ tables: { t: { key: 'id', labels: { total: 'Total' } } } }), /tables\.t\.labels\.total: labels "rows" or a money column/);
  assert.throws(() => app({ tables: { t: { key: 'id' } }, ownership: [{ table: 't', column: 'u', through: 'p', parent: 'parents', parentColumn: 'u' }] }), /ownership\.0\.parent: "parents" is not declared under tables/);
  assert.throws(() => app({ tables: { t: { key: 'id', tolerance: { rows: -1 } } } }), /tables\.t\.tolerance\.rows: must not be negative/);
});
