import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CheckDefinition, CheckScreen } from '../../activities/validation/checks';
import { drawSketchSecrets, judgeScreen, ledgerSketch, moneyScale, screenPlan, type ScreenCatalog } from '../../activities/validation/screening';

const ledger: Extract<CheckScreen, { kind: 'ledger' }> = { kind: 'ledger', table: 'transactions', through: 'account_id', amount: 'amount', balances: 'accounts', key: 'id', balance: 'balance' };
const orphans: CheckScreen = { kind: 'orphans', table: 'transactions', columns: ['account_id'], parent: 'accounts', parentColumns: ['id'] };
const owner: CheckScreen = { kind: 'same-as-parent', table: 'transactions', through: 'account_id', column: 'user_id', parent: 'accounts', parentKey: 'id', parentColumn: 'user_id' };
const check = (id: string, screen: CheckScreen): CheckDefinition => ({ id, name: id, sql: 'SELECT 1 WHERE false', expectation: { kind: 'zeroRows' }, timeoutMs: 1000, screen });

const catalog = (types: Record<string, string> = {}, unique = ['accounts(id)']): ScreenCatalog => ({
  unique: new Set(unique),
  types: new Map(Object.entries({ 'transactions.account_id': 'bigint', 'transactions.amount': 'numeric(14,2)', 'accounts.id': 'bigint', 'accounts.balance': 'numeric(14,2)', ...types })),
});

test('the ledger sketch weighs each entry by a seeded hash of its owner and each balance by the same hash of its key, in whole cents modulo a prime ($1, $2 the seeds, $3, $4 the primes)', () => {
  const sketch = ledgerSketch(ledger, catalog(), 'c', 0)!;
  assert.deepEqual(sketch.entryColumns, [
    'sum((((c."amount") * 100)::int8 % $3::int8) * (hashint8extended((c."account_id")::int8, $1::int8) & 2147483647)) FILTER (WHERE c."account_id" IS NOT NULL) AS l0_w1',
    'sum((((c."amount") * 100)::int8 % $4::int8) * (hashint8extended((c."account_id")::int8, $2::int8) & 2147483647)) FILTER (WHERE c."account_id" IS NOT NULL) AS l0_w2',
  ]);
  assert.match(sketch.balanceSql, /hashint8extended\(\(b\."id"\)::int8, \$1::int8\)/);
  assert.match(sketch.balanceSql, /count\(\*\) FILTER \(WHERE b\."balance" IS NULL OR \(b\."id" IS NULL AND b\."balance" <> 0\)\) AS unmatched/);
  assert.match(sketch.balanceSql, /FROM accounts b$/);
});

test('the sketch scales both sides by the larger scale, hashes text keys as text, and integer keys of different widths as int8', () => {
  assert.match(ledgerSketch(ledger, catalog({ 'accounts.balance': 'numeric(16,4)' }), 'c', 1)!.entryColumns[0]!, /\(\(c\."amount"\) \* 10000\)::int8 %/);
  assert.match(ledgerSketch(ledger, catalog({ 'accounts.balance': 'numeric(16,4)' }), 'c', 1)!.balanceSql, /\(\(b\."balance"\) \* 10000\)::int8 %/);
  assert.match(ledgerSketch(ledger, catalog({ 'transactions.amount': 'bigint', 'accounts.balance': 'bigint' }), 'c', 1)!.entryColumns[0]!, /sum\(\(\(c\."amount"\)::int8 %/);
  assert.match(ledgerSketch(ledger, catalog({ 'transactions.account_id': 'text', 'accounts.id': 'text' }), 'c', 1)!.entryColumns[0]!, /hashtextextended\(\(c\."account_id"\)::text, \$1::int8\)/);
  assert.match(ledgerSketch(ledger, catalog({ 'transactions.account_id': 'integer' }), 'c', 1)!.entryColumns[0]!, /hashint8extended\(\(c\."account_id"\)::int8/);
  assert.equal(moneyScale('numeric(14,2)'), 2);
  assert.equal(moneyScale('integer'), 0);
});

test('no sketch, so the exact ledger check runs, for a money column without a fixed scale, keys hashed differently, or a balance key no unique index proves', () => {
  for (const [why, c] of [
    ['numeric without a scale', catalog({ 'transactions.amount': 'numeric' })],
    ['a float balance', catalog({ 'accounts.balance': 'double precision' })],
    ['a column the catalog lacks', catalog({ 'accounts.balance': undefined as unknown as string })],
    ['bigint owner, text key', catalog({ 'accounts.id': 'text' })],
    ['a balance key not proven unique', catalog({}, [])],
  ] as const) {
    assert.equal(ledgerSketch(ledger, c, 'c', 0), undefined, why);
    const plan = screenPlan([check('ledger', ledger), check('orphans', orphans)], c);
    assert.equal(plan.answers[0], undefined, why);
    assert.deepEqual(judgeScreen(plan, { found1: '0' }, new Map(), [7n, 11n])[0], true, `${why}: the exact check runs`);
  }
  assert.equal(moneyScale('numeric'), undefined);
  assert.equal(moneyScale('money'), undefined);
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
  assert.deepEqual(judgeScreen(plan, { found0: '0', found1: '0' }, sides('0'), [7n, 11n]), [false, false]);
  assert.deepEqual(judgeScreen(plan, { found0: '0', found1: '2' }, sides('0'), [7n, 11n]), [true, true], 'an owner that differs from its account\'s may be an orphan');
  assert.deepEqual(judgeScreen(plan, { found0: '1', found1: '0' }, sides('0'), [7n, 11n]), [true, false], 'an owner on a row without a matched account');
  assert.deepEqual(judgeScreen(plan, { found0: '0', found1: '0' }, sides('1'), [7n, 11n]), [true, false], 'an account whose owner is gone');
  const alone = screenPlan([check('user orphans', userOrphans), check('orphans', orphans)], catalog({}, ['accounts(id)', 'users(id)']));
  assert.match(alone.sql, /LEFT JOIN users j\d ON j\d\."id" = c\."user_id"/, 'without the same-as-parent check it joins its parent');
});

test('the verdict: clean only when every count is zero, the ledger\'s sketches agree modulo their primes and no balance is NULL or keyless', () => {
  const plan = screenPlan([check('orphans', orphans), check('ledger', ledger)], catalog());
  const primes: [bigint, bigint] = [1_000_003n, 1_000_033n];
  const balances = (b: Record<string, unknown>) => new Map([[1, { w1: '5', w2: '9', unmatched: '0', ...b }]]);
  const row = (r: Record<string, unknown> = {}) => ({ found0: '0', l1_w1: String(5n + 3n * primes[0]), l1_w2: '9', ...r });
  assert.deepEqual(judgeScreen(plan, row(), balances({}), primes), [false, false]);
  assert.deepEqual(judgeScreen(plan, row({ found0: '1' }), balances({}), primes), [true, false]);
  assert.deepEqual(judgeScreen(plan, row({ l1_w2: '10' }), balances({}), primes), [false, true]);
  assert.deepEqual(judgeScreen(plan, row({ l1_w1: String(5n - primes[1]) }), balances({}), primes), [false, true], 'equal modulo the other prime only');
  assert.deepEqual(judgeScreen(plan, row(), balances({ unmatched: '1' }), primes), [false, true]);
  assert.deepEqual(judgeScreen(plan, row({ l1_w1: null, l1_w2: null }), balances({ w1: null, w2: null }), primes), [false, false], 'no entries, no balances');
  assert.deepEqual(judgeScreen(plan, row(), new Map(), primes), [false, true], 'no balance row read: maybe');
});

test('every gate draws fresh secrets: two seeds and two primes in [2^30, 2^31)', () => {
  const isPrime = (n: bigint) => {
    for (let d = 2n; d * d <= n; d++) if (n % d === 0n) return false;
    return true;
  };
  const a = drawSketchSecrets();
  const b = drawSketchSecrets();
  for (const p of [...a.primes, ...b.primes]) {
    assert.ok(p >= 2n ** 30n && p < 2n ** 31n, String(p));
    assert.ok(isPrime(p), `${p} is prime`);
  }
  assert.notDeepEqual(a.seeds, b.seeds);
});
