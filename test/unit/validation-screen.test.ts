import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CheckDefinition, CheckScreen } from '../../activities/validation/checks';
import { drawSketchSecrets, exactMoney, judgeScreen, ledgerSketch, screenPlan, type ScreenCatalog } from '../../activities/validation/screening';

const ledger: Extract<CheckScreen, { kind: 'ledger' }> = { kind: 'ledger', table: 'transactions', through: 'account_id', amount: 'amount', balances: 'accounts', key: 'id', balance: 'balance' };
const orphans: CheckScreen = { kind: 'orphans', table: 'transactions', columns: ['account_id'], parent: 'accounts', parentColumns: ['id'] };
const owner: CheckScreen = { kind: 'same-as-parent', table: 'transactions', through: 'account_id', column: 'user_id', parent: 'accounts', parentKey: 'id', parentColumn: 'user_id' };
const check = (id: string, screen: CheckScreen): CheckDefinition => ({ id, name: id, sql: 'SELECT 1 WHERE false', expectation: { kind: 'zeroRows' }, timeoutMs: 1000, screen });

const catalog = (types: Record<string, string> = {}, unique = ['accounts(id)']): ScreenCatalog => ({
  unique: new Set(unique),
  types: new Map(Object.entries({ 'transactions.account_id': 'bigint', 'transactions.amount': 'numeric(14,2)', 'accounts.id': 'bigint', 'accounts.balance': 'numeric(14,2)', ...types })),
});

test('the ledger sketch weighs each entry by a seeded 62-bit hash of its owner and each balance by the same hash of its key, in exact numeric ($1 the seed)', () => {
  const sketch = ledgerSketch(ledger, catalog(), 'c', 0)!;
  assert.deepEqual(sketch.entryColumns, [
    'sum((c."amount")::numeric * (hashint8extended((c."account_id")::int8, $1::int8) & 4611686018427387903)) FILTER (WHERE c."account_id" IS NOT NULL) AS l0_w',
  ]);
  assert.match(sketch.balanceSql, /sum\(\(b\."balance"\)::numeric \* \(hashint8extended\(\(b\."id"\)::int8, \$1::int8\) & 4611686018427387903\)\) AS w,/);
  assert.match(sketch.balanceSql, /count\(\*\) FILTER \(WHERE b\."balance" IS NULL OR \(b\."id" IS NULL AND b\."balance" <> 0\)\) AS unmatched/);
  assert.match(sketch.balanceSql, /FROM accounts b$/);
  assert.doesNotMatch(sketch.balanceSql, /\$2/, 'the seed is the only parameter');
});

test('the sketch sums any scale and integer money exactly, hashes text keys as text, and integer keys of different widths as int8', () => {
  assert.ok(ledgerSketch(ledger, catalog({ 'accounts.balance': 'numeric(16,4)' }), 'c', 1), 'scales that differ');
  assert.ok(ledgerSketch(ledger, catalog({ 'transactions.amount': 'numeric', 'accounts.balance': 'numeric' }), 'c', 1), 'numeric without a scale');
  assert.match(ledgerSketch(ledger, catalog({ 'transactions.amount': 'bigint', 'accounts.balance': 'bigint' }), 'c', 1)!.entryColumns[0]!, /sum\(\(c\."amount"\)::numeric \* /);
  assert.match(ledgerSketch(ledger, catalog({ 'transactions.account_id': 'text', 'accounts.id': 'text' }), 'c', 1)!.entryColumns[0]!, /hashtextextended\(\(c\."account_id"\)::text, \$1::int8\)/);
  assert.match(ledgerSketch(ledger, catalog({ 'transactions.account_id': 'integer' }), 'c', 1)!.entryColumns[0]!, /hashint8extended\(\(c\."account_id"\)::int8/);
  assert.equal(exactMoney('numeric(14,2)'), true);
  assert.equal(exactMoney('numeric'), true);
  assert.equal(exactMoney('integer'), true);
});

test('no sketch, so the exact ledger check runs, for a float or money column, keys hashed differently, or a balance key no unique index proves', () => {
  for (const [why, c] of [
    ['a money-typed amount', catalog({ 'transactions.amount': 'money' })],
    ['a float balance', catalog({ 'accounts.balance': 'double precision' })],
    ['a column the catalog lacks', catalog({ 'accounts.balance': undefined as unknown as string })],
    ['bigint owner, text key', catalog({ 'accounts.id': 'text' })],
    ['a balance key not proven unique', catalog({}, [])],
  ] as const) {
    assert.equal(ledgerSketch(ledger, c, 'c', 0), undefined, why);
    const plan = screenPlan([check('ledger', ledger), check('orphans', orphans)], c);
    assert.equal(plan.answers[0], undefined, why);
    assert.deepEqual(judgeScreen(plan, { found1: '0' }, new Map())[0], true, `${why}: the exact check runs`);
  }
  assert.equal(exactMoney('money'), false);
  assert.equal(exactMoney('real'), false);
});

test('the screen joins each parent once, with one plain aggregate and no GROUP BY; a parent key no unique index proves is left to the exact check', () => {
  const plan = screenPlan([check('orphans', orphans), check('owner', owner), check('ledger', ledger)], catalog());
  assert.equal((plan.sql.match(/LEFT JOIN/g) ?? []).length, 1, plan.sql);
  assert.match(plan.sql, /^SELECT count\(\*\) FILTER \(WHERE c\."account_id" IS NOT NULL AND j0\."id" IS NULL\) AS found0, count\(\*\) FILTER \(WHERE j0\."id" IS NOT NULL AND c\."user_id" IS DISTINCT FROM j0\."user_id"\) AS found1, /);
  assert.match(plan.sql, /FROM transactions c LEFT JOIN accounts j0 ON j0\."id" = c\."account_id"$/);
  assert.doesNotMatch(plan.sql, /GROUP BY/);
  assert.deepEqual(plan.answers, [{ zero: ['found0'], side: false }, { zero: ['found1'], side: false }, { zero: [], side: true }]);
  const unproven = screenPlan([check('orphans', orphans), check('owner', owner)], catalog({}, []));
  assert.deepEqual(unproven.answers, [undefined, undefined]);
  assert.equal(unproven.sql, '');
});

test('an owner\'s orphan check joins no parent of its own when a same-as-parent check of that column is screened: its rows without a matched account, that check\'s count and the accounts\' own owners decide', () => {
  const userOrphans: CheckScreen = { kind: 'orphans', table: 'transactions', columns: ['user_id'], parent: 'users', parentColumns: ['id'] };
  const plan = screenPlan([check('user orphans', userOrphans), check('owner', owner)], catalog({}, ['accounts(id)', 'users(id)']));
  assert.equal((plan.sql.match(/LEFT JOIN/g) ?? []).length, 1, plan.sql);
  assert.match(plan.sql, /count\(\*\) FILTER \(WHERE c\."user_id" IS NOT NULL AND j0\."id" IS NULL\) AS found0/);
  assert.deepEqual(plan.answers[0], { zero: ['found0', 'found1'], side: true });
  assert.match(plan.sides[0]!.sql, /^SELECT count\(\*\) AS unmatched FROM accounts m WHERE m\."user_id" IS NOT NULL\s+AND NOT EXISTS \(SELECT 1 FROM users p WHERE p\."id" = m\."user_id"\)$/);
  const sides = (unmatched: string) => new Map([[0, { unmatched }]]);
  assert.deepEqual(judgeScreen(plan, { found0: '0', found1: '0' }, sides('0')), [false, false]);
  assert.deepEqual(judgeScreen(plan, { found0: '0', found1: '2' }, sides('0')), [true, true], 'an owner that differs from its account\'s may be an orphan');
  assert.deepEqual(judgeScreen(plan, { found0: '1', found1: '0' }, sides('0')), [true, false], 'an owner on a row without a matched account');
  assert.deepEqual(judgeScreen(plan, { found0: '0', found1: '0' }, sides('1')), [true, false], 'an account whose owner is gone');
  const alone = screenPlan([check('user orphans', userOrphans), check('orphans', orphans)], catalog({}, ['accounts(id)', 'users(id)']));
  assert.match(alone.sql, /LEFT JOIN users j\d ON j\d\."id" = c\."user_id"/, 'without the same-as-parent check it joins its parent');
});

test('the verdict: clean only when every count is zero, the ledger\'s two sketches are equal exactly and no balance is NULL or keyless', () => {
  const plan = screenPlan([check('orphans', orphans), check('ledger', ledger)], catalog());
  const balances = (b: Record<string, unknown>) => new Map([[1, { w: '12345678901234567890.50', unmatched: '0', ...b }]]);
  const row = (r: Record<string, unknown> = {}) => ({ found0: '0', l1_w: '12345678901234567890.5', ...r });
  assert.deepEqual(judgeScreen(plan, row(), balances({})), [false, false]);
  assert.deepEqual(judgeScreen(plan, row({ found0: '1' }), balances({})), [true, false]);
  assert.deepEqual(judgeScreen(plan, row({ l1_w: '12345678901234567890.51' }), balances({})), [false, true], 'off by one hundredth of a weight');
  assert.deepEqual(judgeScreen(plan, row(), balances({ unmatched: '1' })), [false, true]);
  assert.deepEqual(judgeScreen(plan, row({ l1_w: null }), balances({ w: null })), [false, false], 'no entries, no balances');
  assert.deepEqual(judgeScreen(plan, row({ l1_w: null }), balances({ w: '0.00' })), [false, false], 'no entries, balances that sum to zero');
  assert.deepEqual(judgeScreen(plan, row(), new Map()), [false, true], 'no balance row read: maybe');
});

test('every gate draws a fresh seed', () => {
  const seeds = new Set(Array.from({ length: 8 }, () => drawSketchSecrets().seed));
  assert.equal(seeds.size, 8);
});
