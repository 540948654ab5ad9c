import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { reconciliationReport, type ValidationGateResult } from '../../contracts/validation';
import { financialApplication } from '../../demo/financial-application';
import { startTestPostgres, type TestPostgres } from '../support/postgres';
import { blockingChecks, testGate } from '../support/validation-gate';

// The corruption corpus: realistic corruptions of the demo financial database, each planted into a copy
// of the backed-up database, and the gate called exactly as the runbooks call it (the last known good
// baseline at or before the incident, then every check). Each must block, naming the check that caught
// it; the clean controls must pass with no alarm at all. Test names say the class of each case.
//
// The dataset's ledger runs from 2025-01-01 00:00:00 to 01:06:40 (4000 transactions, one a second); the
// backup was taken at 01:10:00 and the incident is at 01:12:00, so writes dated in between came after
// the backup and the newest transaction is well inside the RPO (15 min) of the incident.
const dataset = { size: { users: 200, transactionsPerUser: 20 }, seed: 3 };
const backupAt = '2025-01-01T01:10:00.000Z';
const incidentTime = '2025-01-01T01:12:00.000Z';
let pg: TestPostgres;
let gate: ReturnType<typeof testGate>;

before(async () => {
  pg = await startTestPostgres();
  gate = testGate(pg, financialApplication);
  await pg.createDatabase('golden', dataset, { pool: false });
  // backupWithBaseline reads the baseline from the backup restored to its consistent point: here a copy.
  await pg.createDatabase('backup-copy', undefined, { template: 'golden' });
  await gate.takeBaseline('backup-copy', '20250101-011000F', backupAt);
});

after(async () => {
  await pg?.stop();
});

/** A fresh copy of the backed-up database with `sql` applied by the superuser, through the gate as the runbooks call it. */
const gateOn = (sql?: string): Promise<ValidationGateResult> => gate.gateOnCopy('golden', sql, incidentTime);

const recomputeBalances = `UPDATE accounts a SET balance = coalesce((SELECT sum(amount) FROM transactions t WHERE t.account_id = a.id), 0);`;
/** The application's own write: a transaction and its account's balance, in one statement. */
const write = (account: number, amount: string, at: string, extra: { user?: string; reference?: string; description?: string } = {}) => `
  WITH t AS (INSERT INTO transactions (account_id, user_id, amount, currency, description, reference, created_at)
             SELECT id, ${extra.user ?? 'user_id'}, ${amount}, currency, '${extra.description ?? 'card'}', ${extra.reference ? `'${extra.reference}'` : `'app-' || gen_random_uuid()`}, timestamptz '${at}'
             FROM accounts WHERE id = ${account} RETURNING account_id, amount)
  UPDATE accounts a SET balance = a.balance + t.amount FROM t WHERE a.id = t.account_id;`;
const signUp = (user: number, at: string) => `
  INSERT INTO users (id, email, created_at) VALUES (${user}, 'new${user}@example.test', timestamptz '${at}');
  INSERT INTO accounts (id, user_id, currency, created_at) VALUES (${user + 10_000}, ${user}, 'USD', timestamptz '${at}');
  INSERT INTO audit_logs (user_id, action, at) VALUES (${user}, 'signup', timestamptz '${at}');`;

interface Case {
  name: string;
  sql: string;
  /** Check ids that must block (each among the failing ones). */
  blocks: string[];
  /** Words a blocking check must say (the rows, the constraint it names). */
  says?: RegExp;
}

/** Each case blocks the gate, and the named checks are among those that fail. */
function corpus(className: string, cases: Case[]) {
  describe(className, () => {
    for (const c of cases) {
      test(`${className}: ${c.name} — blocked by ${c.blocks.join(', ')}`, async () => {
        const result = await gateOn(c.sql);
        const blocking = blockingChecks(result);
        assert.equal(result.passed, false, `the gate passed: ${result.summary.join('\n')}`);
        for (const id of c.blocks) assert.ok(blocking.includes(id), `${id} blocks (blocking: ${blocking.join(', ')})`);
        if (c.says) {
          const words = result.checks.filter((x) => c.blocks.includes(x.id)).map((x) => x.message).join('\n');
          assert.match(words, c.says);
        }
      });
    }
  });
}

corpus('consistent loss', [
  {
    name: 'whole customers deleted with everything they own (users 181–200), balances still equal their ledger',
    sql: `DELETE FROM transactions WHERE user_id > 180; DELETE FROM savings_goals WHERE user_id > 180; DELETE FROM subscriptions WHERE user_id > 180;
          DELETE FROM audit_logs WHERE user_id > 180; DELETE FROM accounts WHERE user_id > 180; DELETE FROM users WHERE id > 180;`,
    blocks: ['history:transactions', 'history:audit_logs', 'reconciliation'],
  },
  {
    name: 'one customer deleted with everything they own (inside any row-count tolerance)',
    sql: `DELETE FROM transactions WHERE user_id = 77; DELETE FROM savings_goals WHERE user_id = 77; DELETE FROM subscriptions WHERE user_id = 77;
          DELETE FROM audit_logs WHERE user_id = 77; DELETE FROM accounts WHERE user_id = 77; DELETE FROM users WHERE id = 77;`,
    blocks: ['history:transactions', 'history:audit_logs'],
  },
  { name: 'a scattered 1 % of transactions deleted, balances recomputed', sql: `DELETE FROM transactions WHERE id % 100 = 7; ${recomputeBalances}`, blocks: ['history:transactions'], says: /rows? missing/ },
  { name: 'a 3 % slice of transactions (ids 1001–1120) deleted, balances recomputed', sql: `DELETE FROM transactions WHERE id BETWEEN 1001 AND 1120; ${recomputeBalances}`, blocks: ['history:transactions'], says: /absent now: 1001–1008/ },
  { name: 'the subscriptions table truncated', sql: 'TRUNCATE subscriptions', blocks: ['reconciliation'], says: /subscriptions rows: 0 \(baseline: 50\) ❌/ },
  { name: 'the savings goals table truncated', sql: 'TRUNCATE savings_goals', blocks: ['reconciliation'], says: /savings_goals rows: 0 \(baseline: 100\) ❌/ },
  { name: 'one audit log row deleted', sql: 'DELETE FROM audit_logs WHERE id = 123', blocks: ['history:audit_logs'], says: /absent now: 123\b/ },
]);

corpus('comparing too little', [
  { name: '0.2 % of transactions deleted (inside a ±1 % count tolerance), balances recomputed', sql: `DELETE FROM transactions WHERE id IN (11, 512, 1013, 1514, 2015, 2516, 3017, 3518); ${recomputeBalances}`, blocks: ['history:transactions'], says: /absent now: 11\b/ },
  {
    name: '1 % of customers deleted with everything they own (inside a ±1 % users comparison)',
    sql: `DELETE FROM transactions WHERE user_id IN (3, 4); DELETE FROM savings_goals WHERE user_id IN (3, 4); DELETE FROM subscriptions WHERE user_id IN (3, 4);
          DELETE FROM audit_logs WHERE user_id IN (3, 4); DELETE FROM accounts WHERE user_id IN (3, 4); DELETE FROM users WHERE id IN (3, 4);`,
    blocks: ['history:transactions', 'history:audit_logs'],
  },
  {
    name: 'an account handed to another customer with its ledger rewritten to match (ownership still consistent)',
    sql: `UPDATE accounts SET user_id = 5 WHERE id = 20; UPDATE transactions SET user_id = 5 WHERE account_id = 20;`,
    blocks: ['history:transactions'],
    says: /content changed/,
  },
  { name: "an old transaction's amount rewritten and its balance recomputed (the total moves by less than 1 %)", sql: `UPDATE transactions SET amount = amount + 250 WHERE id = 42; ${recomputeBalances}`, blocks: ['history:transactions', 'reconciliation'] },
]);

corpus('tampering that keeps every sum', [
  {
    name: 'a cent added to a transaction and to its balance',
    sql: `UPDATE accounts SET balance = balance + 0.01 WHERE id = (SELECT account_id FROM transactions WHERE id = 1234); UPDATE transactions SET amount = amount + 0.01 WHERE id = 1234;`,
    blocks: ['history:transactions', 'reconciliation'],
    says: /id 1233–1248: content changed/,
  },
  {
    name: 'a replayed write applied twice (its reference reused, its balance updated again)',
    sql: `ALTER TABLE transactions DROP CONSTRAINT transactions_reference_key;
          INSERT INTO transactions (account_id, user_id, amount, currency, description, reference, created_at) SELECT account_id, user_id, amount, currency, description, reference, created_at FROM transactions WHERE id = 2000;
          UPDATE accounts SET balance = balance + (SELECT amount FROM transactions WHERE id = 2000) WHERE id = (SELECT account_id FROM transactions WHERE id = 2000);`,
    blocks: ['business-key:transactions(reference)', 'schema', 'history:transactions'],
    says: /reference seed-2000, rows 2/,
  },
  {
    name: 'a recent write (after the backup) replayed twice: same reference, both applied to the balance',
    sql: `ALTER TABLE transactions DROP CONSTRAINT transactions_reference_key;
          ${write(10, '19.99', '2025-01-01T01:11:00Z', { reference: 'pay-7f3a' })} ${write(10, '19.99', '2025-01-01T01:11:02Z', { reference: 'pay-7f3a' })}`,
    blocks: ['business-key:transactions(reference)', 'schema'],
    says: /reference pay-7f3a, rows 2/,
  },
  {
    name: 'two amounts swapped between transactions of one account',
    sql: `WITH pair AS (SELECT id, amount FROM transactions WHERE account_id = 10 ORDER BY id LIMIT 2)
          UPDATE transactions t SET amount = (SELECT p.amount FROM pair p WHERE p.id <> t.id) WHERE t.id IN (SELECT id FROM pair);`,
    blocks: ['history:transactions'],
    says: /content changed/,
  },
  { name: "a transaction moved to a user who does not own its account", sql: `UPDATE transactions SET user_id = CASE WHEN user_id = 1 THEN 2 ELSE 1 END WHERE id = 100;`, blocks: ['ownership:transactions.user_id', 'history:transactions'] },
  { name: "a new transaction (after the backup) booked to a user who does not own its account", sql: write(10, '5.00', '2025-01-01T01:11:00Z', { user: '11' }), blocks: ['ownership:transactions.user_id'], says: /account_id 10, user_id 11, parent_user_id 10/ },
  { name: "an account's currency changed", sql: `UPDATE accounts SET currency = 'EUR' WHERE id = 42;`, blocks: ['currency:transactions.currency'], says: /account_id 42, currency USD, parent_currency EUR/ },
  { name: "an old transaction's description rewritten (no money touched)", sql: `UPDATE transactions SET description = description || ' (edited)' WHERE id = 777;`, blocks: ['history:transactions'], says: /id 769–784: content changed/ },
]);

corpus('time', [
  { name: 'one row dated after the incident beyond the clock skew', sql: write(10, '1.00', '2025-01-01T01:40:00Z'), blocks: ['future-dated:transactions.created_at'], says: /created_at 2025-01-01T01:40:00.000Z/ },
  {
    name: 'a copy thirty minutes stale, hidden by one future-dated row',
    sql: `DELETE FROM transactions WHERE created_at > timestamptz '2025-01-01 00:36:40+00'; ${recomputeBalances} ${write(10, '1.00', '2025-01-01T02:00:00Z')}`,
    blocks: ['recent-data:transactions.created_at', 'future-dated:transactions.created_at'],
  },
  { name: 'a copy thirty minutes stale', sql: `DELETE FROM transactions WHERE created_at > timestamptz '2025-01-01 00:36:40+00'; ${recomputeBalances}`, blocks: ['recent-data:transactions.created_at'] },
  { name: 'a transaction inserted into the past (dated 00:20, before the backup) with its balance', sql: write(10, '99.00', '2025-01-01T00:20:00Z'), blocks: ['history:transactions'], says: /1 row added to the past.*held now: 4001/ },
  { name: 'a history row re-dated into the present (out of the history window)', sql: `UPDATE transactions SET created_at = timestamptz '2025-01-01 01:11:00+00' WHERE id = 300;`, blocks: ['history:transactions'], says: /absent now: 300\b/ },
]);

corpus('schema drift', [
  { name: 'NOT NULL dropped on transactions.description', sql: 'ALTER TABLE transactions ALTER COLUMN description DROP NOT NULL', blocks: ['schema'], says: /transactions\.description: NOT NULL dropped/ },
  { name: 'UNIQUE dropped on transactions.reference', sql: 'ALTER TABLE transactions DROP CONSTRAINT transactions_reference_key', blocks: ['schema'], says: /UNIQUE constraint transactions_reference_key on transactions: dropped: UNIQUE \(reference\)/ },
  { name: 'CHECK dropped on savings_goals.target_amount', sql: 'ALTER TABLE savings_goals DROP CONSTRAINT savings_goals_target_positive', blocks: ['schema'], says: /CHECK constraint savings_goals_target_positive on savings_goals: dropped/ },
  { name: 'a foreign key dropped (subscriptions → users)', sql: 'ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_user_id_fkey', blocks: ['schema'], says: /FOREIGN KEY constraint subscriptions_user_id_fkey on subscriptions: dropped/ },
  { name: 'a foreign key re-added NOT VALID', sql: 'ALTER TABLE savings_goals DROP CONSTRAINT savings_goals_user_id_fkey; ALTER TABLE savings_goals ADD CONSTRAINT savings_goals_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) NOT VALID', blocks: ['schema', 'foreign-key-enforced:savings_goals.savings_goals_user_id_fkey'], says: /NOT VALID/ },
  { name: "a money column's type changed (numeric(14,2) → numeric(16,4))", sql: 'ALTER TABLE transactions ALTER COLUMN amount TYPE numeric(16,4)', blocks: ['schema', 'history:transactions'], says: /type changed: numeric\(14,2\) → numeric\(16,4\)/ },
  { name: 'an index dropped', sql: 'DROP INDEX transactions_created_at_idx', blocks: ['schema'], says: /index transactions_created_at_idx on transactions: dropped/ },
  { name: 'a column dropped from an append-only table', sql: 'ALTER TABLE audit_logs DROP COLUMN action', blocks: ['schema', 'history:audit_logs'], says: /audit_logs\.action: column dropped/ },
]);

// Each kind of corruption the gate checks, planted at the first row, the last, the middle, and (for a
// duplicate) split across key ranges, so neither a range, a chunk of a scan nor a group of the screen
// hides it. The dataset's transactions are ids 1–4000 (key ranges of 16), its accounts 266 rows.
describe('anywhere in the table', () => {
  const positions = [
    { at: 'the first row', id: 1, other: 2 },
    { at: 'the middle row', id: 2000, other: 2001 },
    { at: 'the last row', id: 4000, other: 3999 },
    { at: 'a row three quarters in', id: 3001, other: 1 },
  ];
  /** The account at `id`'s place among accounts (first, middle, last), as the gate's ledger names it. */
  const accountAt = async (id: number) => {
    const { first, last, count } = (await pg.sql('golden', 'SELECT min(id)::int AS first, max(id)::int AS last, count(*)::int AS count FROM accounts'))[0] as { first: number; last: number; count: number };
    if (id === 1) return first;
    if (id === 4000) return last;
    const offset = id === 2000 ? Math.floor(count / 2) : Math.floor((count * 3) / 4);
    return ((await pg.sql('golden', 'SELECT id::int AS id FROM accounts ORDER BY id OFFSET $1 LIMIT 1', [offset]))[0] as { id: number }).id;
  };
  const transaction = async (id: number) => (await pg.sql('golden', 'SELECT account_id::int AS account, reference, amount::text AS amount FROM transactions WHERE id = $1', [id]))[0] as { account: number; reference: string; amount: string };
  const blocks = (result: ValidationGateResult, id: string, says: RegExp) => {
    assert.equal(result.passed, false, `the gate passed: ${result.summary.join('\n')}`);
    const check = result.checks.find((c) => c.id === id);
    assert.ok(check && (check.verdict === 'fail' || check.verdict === 'error'), `${id} blocks (blocking: ${blockingChecks(result).join(', ')})`);
    assert.match(check.message, says);
  };

  for (const p of positions) {
    test(`anywhere: a balance off by 0.01 at ${p.at} of accounts — blocked by ledger:accounts.balance, naming the account`, async () => {
      const account = await accountAt(p.id);
      blocks(await gateOn(`UPDATE accounts SET balance = balance + 0.01 WHERE id = ${account}`), 'ledger:accounts.balance', new RegExp(`account_id ${account}, `));
    });
    test(`anywhere: an orphan at ${p.at} of transactions (its account gone, FK triggers off) — blocked by the orphan check, naming the row`, async () => {
      const sql = `ALTER TABLE transactions DISABLE TRIGGER ALL; UPDATE transactions SET account_id = 999999 WHERE id = ${p.id}; ALTER TABLE transactions ENABLE TRIGGER ALL;`;
      blocks(await gateOn(sql), 'orphans:transactions.transactions_account_id_fkey', new RegExp(`^1 offending row: id ${p.id}, account_id 999999$`));
    });
    test(`anywhere: a transaction duplicated at ${p.at} (${p.other === 1 ? 'the first row, in another key range,' : 'its neighbour'} rewritten as its copy) — blocked by the business key, naming both rows`, async () => {
      const original = await transaction(p.id);
      const sql = `ALTER TABLE transactions DROP CONSTRAINT transactions_reference_key;
        UPDATE transactions d SET (account_id, user_id, amount, currency, description, reference, created_at) = (SELECT account_id, user_id, amount, currency, description, reference, created_at FROM transactions WHERE id = ${p.id}) WHERE d.id = ${p.other};`;
      const [low, high] = [p.id, p.other].sort((a, b) => a - b);
      blocks(await gateOn(sql), 'business-key:transactions(reference)', new RegExp(`reference ${original.reference}, rows 2, ids \\{${low},${high}\\}`));
    });
    test(`anywhere: a NULL amount at ${p.at} of transactions — blocked by the history (its key range) and the ledger`, async () => {
      const original = await transaction(p.id);
      const result = await gateOn(`ALTER TABLE transactions ALTER COLUMN amount DROP NOT NULL; UPDATE transactions SET amount = NULL WHERE id = ${p.id};`);
      const first = Math.floor((p.id - 1) / 16) * 16 + 1;
      blocks(result, 'history:transactions', new RegExp(`id ${first}–${first + 15}: content changed`));
      blocks(result, 'schema', /transactions\.amount: NOT NULL dropped/);
      if (Number(original.amount) !== 0) blocks(result, 'ledger:accounts.balance', new RegExp(`account_id ${original.account}, `));
    });
  }
});

describe('clean controls', () => {
  /** No alarm at all: every check passes, nothing to review, every reconciliation line ✅. */
  const noAlarm = (result: ValidationGateResult) => {
    assert.deepEqual(result.checks.filter((c) => c.verdict !== 'pass').map((c) => `${c.id}: ${c.message}`), []);
    assert.equal(result.passed, true);
    assert.deepEqual(result.review, []);
    assert.ok(result.baseline, 'compared with the baseline');
    assert.deepEqual(result.reconciliation!.filter((l) => l.verdict !== 'match').map((l) => l.line), []);
  };

  test('clean control: a clean copy of the backup passes with no alarm, in the seed report form', async () => {
    const result = await gateOn(undefined);
    noAlarm(result);
    const lines = result.reconciliation!.map((l) => l.line);
    assert.equal(lines[0], 'User Accounts: 200 (baseline: 200) ✅');
    assert.equal(lines[1], 'Total Transactions: 4,000 (baseline: 4,000) ✅');
    assert.match(lines[2]!, /^Transaction Sum: -?\$[\d,]+\.\d\d \(baseline: -?\$[\d,]+\.\d\d\) ✅$/);
    assert.match(lines[3]!, /^Goals Total: \$[\d,]+\.\d\d \(baseline: \$[\d,]+\.\d\d\) ✅$/);
    assert.ok(result.checks.some((c) => c.id === 'history:transactions' && /4,000 rows in \d+ key ranges, each equal/.test(c.message)));
    assert.match(reconciliationReport(result)[0]!, /^Against baseline of backup 20250101-011000F \(consistent at 2025-01-01T01:10:00.000Z; history up to 2025-01-01T01:08:30.000Z\):$/);
  });

  test('clean control: a dump/restore copy (pg_dump, pg_restore: other pages, same rows) passes with no alarm', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-dump-'));
    try {
      const file = path.join(dir, 'golden.dump');
      const env = { ...process.env, PGPASSWORD: pg.cluster.password };
      const bin = process.env.DR_PG_BIN ?? '/usr/lib/postgresql/15/bin';
      const connection = ['-h', '127.0.0.1', '-p', String(pg.cluster.port), '-U', 'postgres'];
      execFileSync(path.join(bin, 'pg_dump'), [...connection, '-Fc', '-f', file, 'golden'], { env });
      await pg.createDatabase('dump-restored');
      execFileSync(path.join(bin, 'pg_restore'), [...connection, '--no-owner', '-d', 'dump-restored', file], { env });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    noAlarm(await gate.gate('dump-restored', incidentTime));
  });

  test('clean control: ordinary writes after the backup (payments, a sign-up, a goal saved into, a subscription cancelled) pass with no alarm', async () => {
    const writes = Array.from({ length: 30 }, (_, i) => write(1 + ((i * 37) % 266), `${(i % 2 ? '' : '-')}${(i * 7.31).toFixed(2)}`, `2025-01-01T01:10:${String(30 + i).padStart(2, '0')}Z`)).join('\n');
    const result = await gateOn(`${writes} ${signUp(201, '2025-01-01T01:10:40Z')}
      UPDATE savings_goals SET current_amount = current_amount + 25 WHERE id = 9; UPDATE subscriptions SET active = false WHERE id = 4;`);
    noAlarm(result);
    const total = result.reconciliation!.find((l) => l.metric === 'transactions.rows')!;
    assert.equal(total.line, 'Total Transactions: 4,030 (baseline: 4,000) ✅');
    assert.match(total.detail!, /^\+30 rows since the baseline \(0\.75 %; tolerance 5 %\); history up to 2025-01-01T01:08:30.000Z unchanged \(4,000 rows, content hash equal\)$/);
    assert.match(result.reconciliation!.find((l) => l.metric === 'accounts.balance.sum')!.detail!, /exactly as the ledger transactions\.amount moved/);
  });

  test('clean control: growth of a few percent (3 % more transactions and customers) passes with no alarm', async () => {
    const payments = Array.from({ length: 120 }, (_, i) => write(1 + ((i * 13) % 266), `${(i % 3 ? '' : '-')}${(10 + i * 1.17).toFixed(2)}`, `2025-01-01T01:${10 + Math.floor(i / 60)}:${String(i % 60).padStart(2, '0')}Z`)).join('\n');
    const signUps = [201, 202, 203, 204, 205, 206].map((u) => signUp(u, '2025-01-01T01:11:00Z')).join('\n');
    const result = await gateOn(`${payments} ${signUps}`);
    noAlarm(result);
    assert.equal(result.reconciliation!.find((l) => l.metric === 'users.rows')!.line, 'User Accounts: 206 (baseline: 200) ✅');
  });

  test('without a baseline at or before the incident the gate still checks, and says so plainly', async () => {
    await pg.createDatabase('no-baseline', undefined, { template: 'golden' });
    const result = await gate.gate('no-baseline', '2025-01-01T01:09:00Z');
    assert.equal(result.passed, true, result.summary.join('\n'));
    assert.match(result.noBaseline!, /^no known good baseline of production from a backup that ended at or before 2025-01-01T01:09:00Z \(1 backup verdict stored, 1 only after/);
    assert.match(reconciliationReport(result)[0]!, /^No baseline: no known good baseline of production .*The recovered data was not reconciled with a known good state/);
    assert.match(result.review![0]!, /^No baseline: /);
    assert.ok(result.skipped.some((s) => s.id === 'reconciliation'));
  });
});

describe('for a person to review', () => {
  test('review: a goal saved into far beyond the tolerance is ⚠️ REVIEW (blocks a real cutover until approved knowingly), not silently ✅', async () => {
    const result = await gateOn('UPDATE savings_goals SET current_amount = current_amount + 50000 WHERE id = 5');
    assert.equal(result.passed, true);
    const line = result.reconciliation!.find((l) => l.metric === 'savings_goals.current_amount.sum')!;
    assert.equal(line.verdict, 'review');
    assert.match(line.line, /^Goals Total: \$[\d,]+\.\d\d \(baseline: \$[\d,]+\.\d\d\) ⚠️ REVIEW$/);
    assert.ok(result.review!.some((r) => r.startsWith(line.line) && /\+\$50,000\.00 since the baseline/.test(r)), result.review!.join('\n'));
    assert.equal(result.checks.find((c) => c.id === 'reconciliation')!.verdict, 'review');
  });

  test('review: a column added since the baseline (a migration) is named for review', async () => {
    const result = await gateOn('ALTER TABLE transactions ADD COLUMN category text');
    assert.equal(result.passed, true);
    assert.deepEqual(result.review, ['Schema added since the baseline: transactions.category: column added (text) ⚠️ REVIEW']);
  });
});
