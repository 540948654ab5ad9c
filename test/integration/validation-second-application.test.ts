import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ApplicationDeclarationInput } from '../../activities/validation/declaration';
import type { ValidationGateResult } from '../../contracts/validation';
import { startTestPostgres, type TestPostgres } from '../support/postgres';
import { blockingChecks, testGate } from '../support/validation-gate';

// A second application with a schema of its own (merchants, wallets in several currencies, a ledger of
// entries keyed by entry_no and deduplicated by (wallet, idempotency key) with no constraint enforcing
// it, invoices) declares itself and gets the same gate, with no line of gate code knowing its names.
const schema = `
  CREATE TABLE merchants (id integer PRIMARY KEY, name text NOT NULL UNIQUE, onboarded_at timestamptz NOT NULL);
  CREATE TABLE wallets (wallet_no bigint PRIMARY KEY, merchant integer NOT NULL REFERENCES merchants(id), ccy char(3) NOT NULL, available numeric(18,4) NOT NULL DEFAULT 0);
  CREATE TABLE ledger_entries (entry_no bigserial PRIMARY KEY, wallet_no bigint NOT NULL REFERENCES wallets(wallet_no), merchant integer NOT NULL,
    amount numeric(18,4) NOT NULL, ccy char(3) NOT NULL, idempotency_key text NOT NULL, booked_at timestamptz NOT NULL);
  CREATE TABLE invoices (id integer PRIMARY KEY, merchant integer NOT NULL REFERENCES merchants(id), total numeric(18,4) NOT NULL CHECK (total >= 0), status text NOT NULL);
  INSERT INTO merchants SELECT m, 'merchant ' || m, timestamptz '2026-02-01' + m * interval '1 hour' FROM generate_series(1, 20) m;
  INSERT INTO wallets SELECT w, 1 + (w - 1) % 20, CASE WHEN w % 2 = 0 THEN 'EUR' ELSE 'GBP' END FROM generate_series(1, 40) w;
  INSERT INTO ledger_entries (entry_no, wallet_no, merchant, amount, ccy, idempotency_key, booked_at)
    SELECT n, w, 1 + (w - 1) % 20, ((n * 7919) % 100000 - 40000) / 10000.0, CASE WHEN w % 2 = 0 THEN 'EUR' ELSE 'GBP' END, 'idem-' || n,
           timestamptz '2026-03-01 05:55:00+00' - (2000 - n) * interval '5 seconds'
    FROM (SELECT n, 1 + (n * 13) % 40 AS w FROM generate_series(1, 2000) n) s;
  SELECT setval('ledger_entries_entry_no_seq', 2000);
  UPDATE wallets w SET available = coalesce((SELECT sum(amount) FROM ledger_entries e WHERE e.wallet_no = w.wallet_no), 0);
  INSERT INTO invoices SELECT i, 1 + i % 20, (i * 37) % 5000 + 0.5, CASE WHEN i % 3 = 0 THEN 'paid' ELSE 'open' END FROM generate_series(1, 100) i;`;

const payments: ApplicationDeclarationInput = {
  name: 'payments',
  tables: {
    merchants: { key: 'id', createdAt: 'onboarded_at', labels: { rows: 'Merchants' } },
    ledger_entries: { key: 'entry_no', appendOnly: true, createdAt: 'booked_at', recent: true, money: ['amount'], labels: { rows: 'Ledger Entries', amount: 'Ledger Total' } },
    wallets: { key: 'wallet_no', money: ['available'], labels: { available: 'Wallet Balances' } },
    invoices: { key: 'id', money: ['total'], labels: { total: 'Invoiced' } },
  },
  ledgers: [{ table: 'wallets', balance: 'available', entries: 'ledger_entries', amount: 'amount', through: 'wallet_no' }],
  ownership: [{ table: 'ledger_entries', column: 'merchant', through: 'wallet_no', parent: 'wallets', parentColumn: 'merchant' }],
  currency: [{ table: 'ledger_entries', column: 'ccy', through: 'wallet_no', parent: 'wallets', parentColumn: 'ccy' }],
  businessKeys: [{ table: 'ledger_entries', columns: ['wallet_no', 'idempotency_key'] }],
  clockSkew: '10 seconds',
  longestTransaction: '30 seconds',
};
const backupAt = '2026-03-01T06:00:00.000Z';
const incidentTime = '2026-03-01T06:05:00.000Z';
let pg: TestPostgres;
let gate: ReturnType<typeof testGate>;

before(async () => {
  pg = await startTestPostgres();
  gate = testGate(pg, payments, 'payments');
  await pg.createDatabase('payments-golden', undefined, { pool: false });
  await pg.sql('payments-golden', schema);
  await pg.createDatabase('payments-backup', undefined, { template: 'payments-golden' });
  await gate.takeBaseline('payments-backup', '20260301-060000F', backupAt);
});

after(async () => {
  await pg?.stop();
});

/** A fresh copy of the backed-up database with `sql` applied by the superuser, through the gate as the runbooks call it. */
const gateOn = (sql?: string): Promise<ValidationGateResult> => gate.gateOnCopy('payments-golden', sql, incidentTime);

const book = (wallet: number, amount: string, at: string, extra: { key?: string; ccy?: string; merchant?: string } = {}) => `
  WITH e AS (INSERT INTO ledger_entries (wallet_no, merchant, amount, ccy, idempotency_key, booked_at)
             SELECT wallet_no, ${extra.merchant ?? 'merchant'}, ${amount}, ${extra.ccy ? `'${extra.ccy}'` : 'ccy'}, '${extra.key ?? `k-${wallet}-${amount}-${at}`}', timestamptz '${at}' FROM wallets WHERE wallet_no = ${wallet} RETURNING wallet_no, amount)
  UPDATE wallets w SET available = w.available + e.amount FROM e WHERE w.wallet_no = e.wallet_no;`;
const recompute = 'UPDATE wallets w SET available = coalesce((SELECT sum(amount) FROM ledger_entries e WHERE e.wallet_no = w.wallet_no), 0);';

test('second application: a clean copy passes with no alarm, reconciled under its own labels', async () => {
  const result = await gateOn();
  assert.deepEqual(result.checks.filter((c) => c.verdict !== 'pass').map((c) => `${c.id}: ${c.message}`), []);
  assert.deepEqual(result.review, []);
  assert.deepEqual(result.reconciliation!.slice(0, 3).map((l) => l.line), ['Merchants: 20 (baseline: 20) ✅', 'Ledger Entries: 2,000 (baseline: 2,000) ✅', result.reconciliation![2]!.line]);
  assert.match(result.reconciliation![2]!.line, /^Ledger Total: -?\$[\d,]+\.\d{4} \(baseline: -?\$[\d,]+\.\d{4}\) ✅$/);
  const ids = result.checks.map((c) => c.id);
  for (const id of ['ledger:wallets.available', 'ownership:ledger_entries.merchant', 'currency:ledger_entries.ccy', 'business-key:ledger_entries(wallet_no,idempotency_key)', 'recent-data:ledger_entries.booked_at', 'history:ledger_entries', 'schema', 'reconciliation']) {
    assert.ok(ids.includes(id), `${id} runs for this schema too`);
  }
});

test('second application: ordinary bookings after the backup pass with no alarm', async () => {
  const result = await gateOn([book(3, '12.5000', '2026-03-01T06:01:00Z'), book(8, '-3.2500', '2026-03-01T06:02:00Z'), book(8, '40.0000', '2026-03-01T06:03:00Z')].join('\n'));
  assert.equal(result.passed, true, result.summary.join('\n'));
  assert.deepEqual(result.review, []);
  assert.equal(result.reconciliation!.find((l) => l.metric === 'ledger_entries.rows')!.line, 'Ledger Entries: 2,003 (baseline: 2,000) ✅');
});

const cases: Array<{ name: string; sql: string; blocks: string[]; says?: RegExp }> = [
  { name: 'consistent loss: a ledger entry deleted, wallet balances recomputed', sql: `DELETE FROM ledger_entries WHERE entry_no = 1500; ${recompute}`, blocks: ['history:ledger_entries'], says: /absent now: 1500\b/ },
  { name: 'tampering: the same idempotency key booked twice on a wallet (no constraint enforces it)', sql: `${book(5, '9.9900', '2026-03-01T06:01:00Z', { key: 'order-881' })} ${book(5, '9.9900', '2026-03-01T06:01:01Z', { key: 'order-881' })}`, blocks: ['business-key:ledger_entries(wallet_no,idempotency_key)'], says: /idempotency_key order-881, rows 2/ },
  { name: "tampering: an entry in another currency than its wallet's", sql: book(6, '1.0000', '2026-03-01T06:01:00Z', { ccy: 'USD' }), blocks: ['currency:ledger_entries.ccy'], says: /ccy USD, parent_ccy EUR/ },
  { name: 'tampering: an entry booked to a merchant who does not own the wallet', sql: book(6, '1.0000', '2026-03-01T06:01:00Z', { merchant: '19' }), blocks: ['ownership:ledger_entries.merchant'] },
  { name: "consistent loss: a wallet's balance that no longer equals its ledger", sql: 'UPDATE wallets SET available = available + 0.0001 WHERE wallet_no = 7', blocks: ['ledger:wallets.available'] },
  { name: 'time: an entry inserted into the past', sql: book(6, '250.0000', '2026-03-01T01:00:00Z'), blocks: ['history:ledger_entries'], says: /added to the past/ },
  { name: 'consistent loss: the invoices table truncated', sql: 'TRUNCATE invoices', blocks: ['reconciliation'], says: /invoices rows: 0 \(baseline: 100\) ❌/ },
  { name: 'schema drift: NOT NULL dropped on invoices.status, the CHECK on invoices.total dropped', sql: 'ALTER TABLE invoices ALTER COLUMN status DROP NOT NULL; ALTER TABLE invoices DROP CONSTRAINT invoices_total_check', blocks: ['schema'], says: /invoices\.status: NOT NULL dropped; CHECK constraint invoices_total_check on invoices: dropped/ },
];

for (const c of cases) {
  test(`second application: ${c.name} — blocked by ${c.blocks.join(', ')}`, async () => {
    const result = await gateOn(c.sql);
    assert.equal(result.passed, false);
    const blocking = blockingChecks(result);
    for (const id of c.blocks) assert.ok(blocking.includes(id), `${id} blocks (blocking: ${blocking.join(', ')})`);
    if (c.says) assert.match(result.checks.filter((x) => c.blocks.includes(x.id)).map((x) => x.message).join('\n'), c.says);
  });
}
