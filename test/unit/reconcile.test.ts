import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DatabaseFigures, TableFigures } from '../../activities/validation/baseline';
import { formatCount, formatMoney, withinRelativeTolerance } from '../../activities/validation/exact-decimal';
import { reconcile } from '../../activities/validation/reconcile';

const table = (rows: string, sums: Record<string, string> = {}): TableFigures => ({ rows, sums, keyColumn: 'id', keyHighWaterMark: rows });

function figures(tables: Record<string, TableFigures>, accountBuckets?: DatabaseFigures['accountBuckets']): DatabaseFigures {
  return { database: 'recovered', measuredAt: '2025-08-11T12:00:00.000Z', tables, ...(accountBuckets ? { accountBuckets } : {}) };
}

// The seed's expected reconciliation report, figure for figure.
const seedBaseline = figures({
  users: table('15230'),
  transactions: table('542100', { amount: '12456123.21' }),
  savings_goals: table('4000', { current_amount: '5678901.23' }),
});
const seedCurrent = figures({
  users: table('15234'),
  transactions: table('542123', { amount: '12456789.45' }),
  savings_goals: table('4000', { current_amount: '5678901.23' }),
});

test('reproduces the seed report lines exactly, seed figures first', () => {
  const result = reconcile(seedCurrent, seedBaseline, 0.01);
  assert.deepEqual(result.lines.slice(0, 4).map((l) => l.line), [
    'User Accounts: 15,234 (baseline: 15,230) ✅',
    'Total Transactions: 542,123 (baseline: 542,100) ✅',
    'Transaction Sum: $12,456,789.45 (baseline: $12,456,123.21) ⚠️ REVIEW',
    'Goals Total: $5,678,901.23 (baseline: $5,678,901.23) ✅',
  ]);
  assert.equal(result.verdict, 'review');
  assert.ok(result.report.startsWith('User Accounts: 15,234 (baseline: 15,230) ✅\nTotal Transactions'));
});

test('every other table and money column gets a line of its own', () => {
  const result = reconcile(seedCurrent, seedBaseline, 0.01);
  assert.deepEqual(result.lines.slice(4).map((l) => l.line), ['savings_goals rows: 4,000 (baseline: 4,000) ✅']);
});

test('a count beyond the tolerance is ❌; within it, ✅', () => {
  const baseline = figures({ users: table('10000') });
  assert.equal(reconcile(figures({ users: table('10100') }), baseline, 0.01).lines[0]!.line, 'User Accounts: 10,100 (baseline: 10,000) ✅');
  assert.equal(reconcile(figures({ users: table('9900') }), baseline, 0.01).lines[0]!.verdict, 'match');
  assert.equal(reconcile(figures({ users: table('10101') }), baseline, 0.01).lines[0]!.line, 'User Accounts: 10,101 (baseline: 10,000) ❌');
  assert.equal(reconcile(figures({ users: table('9899') }), baseline, 0.01).verdict, 'mismatch');
  assert.equal(reconcile(figures({ users: table('10101') }), baseline, 0.05).verdict, 'match');
});

test('money: equal to the cent ✅, any difference within tolerance ⚠️ REVIEW, beyond it ❌', () => {
  const baseline = figures({ transactions: table('10', { amount: '1000.00' }) });
  const line = (amount: string) => reconcile(figures({ transactions: table('10', { amount }) }), baseline, 0.01).lines[1]!.line;
  assert.equal(line('1000.00'), 'Transaction Sum: $1,000.00 (baseline: $1,000.00) ✅');
  assert.equal(line('1000.01'), 'Transaction Sum: $1,000.01 (baseline: $1,000.00) ⚠️ REVIEW');
  assert.equal(line('1010.00'), 'Transaction Sum: $1,010.00 (baseline: $1,000.00) ⚠️ REVIEW');
  assert.equal(line('1010.01'), 'Transaction Sum: $1,010.01 (baseline: $1,000.00) ❌');
  assert.equal(line('-5.5'), 'Transaction Sum: -$5.50 (baseline: $1,000.00) ❌');
});

test('a table the recovered database lacks is ❌; a table the baseline lacks is ⚠️ REVIEW', () => {
  const result = reconcile(figures({ users: table('5'), refunds: table('3') }), figures({ users: table('5'), transactions: table('7', { amount: '1.00' }) }), 0.01);
  const byMetric = new Map(result.lines.map((l) => [l.metric, l.line]));
  assert.equal(byMetric.get('transactions.rows'), 'Total Transactions: missing (baseline: 7) ❌');
  assert.equal(byMetric.get('transactions.amount.sum'), 'Transaction Sum: missing (baseline: $1.00) ❌');
  assert.equal(byMetric.get('refunds.rows'), 'refunds rows: 3 (baseline: none) ⚠️ REVIEW');
  assert.equal(result.verdict, 'mismatch');
});

test('sums beyond 2^53 stay exact (never floats)', () => {
  const baseline = figures({ transactions: table('1', { amount: '90071992547409.93' }) });
  const off = reconcile(figures({ transactions: table('1', { amount: '90071992547409.92' }) }), baseline, 0.01).lines[1]!;
  assert.equal(off.line, 'Transaction Sum: $90,071,992,547,409.92 (baseline: $90,071,992,547,409.93) ⚠️ REVIEW');
  assert.equal(formatMoney('0'), '$0.00');
  assert.equal(formatMoney('-0.5'), '-$0.50');
  assert.equal(formatCount('1234567'), '1,234,567');
  assert.equal(withinRelativeTolerance('101', '100', '0.01'), true);
  assert.equal(withinRelativeTolerance('101.000001', '100', 0.01), false);
  assert.equal(withinRelativeTolerance('0', '0', 0), true);
  assert.equal(withinRelativeTolerance('1', '0', 0.5), false);
  assert.equal(withinRelativeTolerance('100.00001', '100', 1e-7), true);
  assert.equal(withinRelativeTolerance('100.0001', '100', 1e-7), false);
  assert.equal(formatCount('1.5e3'), '1,500');
});

test('account buckets are listed only where the ledger differs', () => {
  const bucket = (first: string, amount: string) => ({ firstAccountId: first, lastAccountId: String(Number(first) + 99), accounts: '100', balance: amount, transactions: '50', amount });
  const baseline = figures({ users: table('1') }, { width: '100', buckets: [bucket('1', '500.00'), bucket('101', '700.00')] });
  const current = figures({ users: table('1') }, { width: '100', buckets: [bucket('1', '500.00'), bucket('101', '650.00')] });
  const lines = reconcile(current, baseline, 0.01).lines.filter((l) => l.metric.startsWith('accountBuckets.')).map((l) => l.line);
  assert.deepEqual(lines, [
    'Accounts 101–200 transaction sum: $650.00 (baseline: $700.00) ❌',
    'Accounts 101–200 balances: $650.00 (baseline: $700.00) ❌',
  ]);
});

test('a negative or non-numeric tolerance is refused', () => {
  assert.throws(() => reconcile(seedCurrent, seedBaseline, -0.1), /^Error: tolerance: must be a number >= 0/);
  assert.throws(() => reconcile(seedCurrent, seedBaseline, Number.NaN), /tolerance/);
});

test('count bounds round inward to whole numbers, on both sides of zero', async () => {
  const { roundDecimal } = await import('../../activities/validation/exact-decimal');
  assert.deepEqual(['198.00', '201.5', '-1.5', '-2', '0.1'].map((v) => [roundDecimal(v, 'up'), roundDecimal(v, 'down')]), [['198', '198'], ['202', '201'], ['-1', '-2'], ['-2', '-2'], ['1', '0']]);
});
