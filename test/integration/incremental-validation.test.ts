import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, Pool } from 'pg';
import { createValidationActivities } from '../../activities/validation';
import { parseApplicationDeclaration } from '../../activities/validation/declaration';
import type { ValidationGateResult } from '../../contracts/validation';
import { financialApplication } from '../../demo/financial-application';
import { seedFinancialDataset } from '../../demo/financial-dataset';
import { validationGateInput } from '../../workflows/scenario-steps';
import { createMemoryObjectStore } from '../support/memory-object-store';
import { query, runActivity, testPlatform } from '../support/local-platform';
import { startTestStack } from '../support/stack';
import { blockingChecks } from '../support/validation-gate';

// Real PostgreSQL 15 (production, a pgBackRest backup restored into a copy for the baseline, a streaming
// standby of production): the gate checks the standby incrementally against the baseline, by what the
// WAL says changed since its LSN, and falls back to the full gate wherever the baseline cannot vouch.
// Every table is treated as large (incrementalSmallTableRows 0), so every restricted check runs.

let stack: Awaited<ReturnType<typeof startTestStack>>;
let local: ReturnType<typeof testPlatform>;
let appUrl: string;
const pools = new Map<string, Pool>();
const built: string[] = [];
const store = createMemoryObjectStore();
let validation: ReturnType<typeof createValidationActivities>;
let standby: string;

const databases = {
  async pool(name: string): Promise<Pool> {
    let pool = pools.get(name);
    if (!pool) {
      const connection = await local.platform.connectionFor(name);
      if (!connection) throw new Error(`no instance ${name}`);
      pool = new Pool({ ...connection, max: 4 });
      pools.set(name, pool);
    }
    return pool;
  },
};

async function onProduction(sql: string): Promise<void> {
  const db = new Client({ connectionString: appUrl });
  await db.connect();
  try {
    await db.query(sql);
  } finally {
    await db.end();
  }
}

/** Waits until the standby has replayed everything production has written. */
async function replayed(): Promise<void> {
  const { lsn } = (await query<{ lsn: string }>(appUrl, 'SELECT pg_current_wal_lsn()::text AS lsn'))[0]!;
  const connection = (await local.platform.connectionFor(standby))!;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { behind } = (await query<{ behind: boolean }>(connection, `SELECT pg_last_wal_replay_lsn() < $1::pg_lsn AS behind`, [lsn]))[0]!;
    if (!behind) return;
    assert.ok(Date.now() < deadline, 'the standby caught up with production');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A baseline as backupWithBaseline takes it: a backup, restored into a copy, measured there, a good verdict. */
async function takeBaseline(step: string): Promise<void> {
  const backup = await runActivity(local.activities, 'takeDatabaseBackup', `incremental-${step}`, { database: 'production', type: 'full' }).result;
  const copy = (await runActivity(local.activities, 'restoreBackupToNewInstance', `incremental-${step}`, { database: 'production', step: 'baseline-copy', backupLabel: backup.label }).result).instance.instanceId;
  try {
    const facts = { label: backup.label, type: backup.type, startedAt: backup.startedAt, stoppedAt: backup.stoppedAt };
    const summary = await validation.captureBaseline({ database: copy, source: 'production', backup: facts });
    const checks = await validation.runValidationChecks({ database: copy, incidentTime: backup.stoppedAt, recency: false });
    assert.ok(checks.passed, `the backup's copy passes the gate: ${checks.summary.join('; ')}`);
    await validation.recordBaselineVerdict({ database: 'production', backup: facts, baselineKey: summary.baselineKey, verification: { ok: true, report: 'test' }, checks: { passed: true, failed: [] } });
  } finally {
    await pools.get(copy)?.end();
    pools.delete(copy);
    await local.platform.deleteInstance(copy);
  }
}

async function gate(): Promise<ValidationGateResult> {
  await replayed();
  const at = new Date().toISOString();
  const lookup = await validation.findValidationBaseline({ database: 'production', at });
  assert.ok(lookup.found, 'a good baseline is found');
  return validation.runValidationChecks(validationGateInput(standby, { incidentTime: at }, lookup));
}

/** A write the application makes: a transaction and its balance, in one commit. */
const write = (account: number, amount: string) => `BEGIN;
  INSERT INTO transactions (account_id, user_id, amount, currency, description) SELECT id, user_id, ${amount}, currency, 'after the baseline' FROM accounts WHERE id = ${account};
  UPDATE accounts SET balance = balance + ${amount} WHERE id = ${account}; COMMIT;`;

before(async () => {
  stack = await startTestStack();
  appUrl = stack.production.url(stack.databaseName);
  const db = new Client({ connectionString: appUrl });
  await db.connect();
  await seedFinancialDataset(db, { users: 60, transactionsPerUser: 20 }, 3);
  // Installed on the primary, so the standby has it while still read-only.
  await db.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
  await db.end();
  local = testPlatform(stack.stateDir);
  validation = createValidationActivities(databases, store, { application: parseApplicationDeclaration(financialApplication), incrementalSmallTableRows: 0 });
  await takeBaseline('first');
  standby = (await runActivity(local.activities, 'createReplica', 'incremental-standby', { database: 'production' }).result).instance.instanceId;
  built.push(standby);
  await onProduction(write(3, '12.50') + write(7, '-4.25') + write(3, '1.00'));
});

after(async () => {
  for (const pool of pools.values()) await pool.end().catch(() => undefined);
  for (const id of built) await local?.platform.deleteInstance(id).catch(() => undefined);
  await stack?.stop();
});

test('a clean standby passes incrementally: the report says so, with what the WAL showed', async () => {
  const result = await gate();
  assert.equal(result.path?.kind, 'incremental', result.path?.detail);
  assert.ok(result.passed, result.summary.join('\n'));
  assert.match(result.summary[0]!, /^Validated incrementally against the baseline: \d+ WAL records since its LSN .*; 5 row\(s\) written since were checked/);
  assert.ok(result.checks.some((c) => c.id === 'history:transactions' && c.verdict === 'pass'));
  assert.ok(result.reconciliation?.some((l) => /Total Transactions: 1,203 \(baseline: 1,200\)/.test(l.line)), result.reconciliation?.map((l) => l.line).join('\n'));
  // The same standby through the full gate agrees.
  const full = await validation.runValidationChecks({ ...validationGateInput(standby, { incidentTime: new Date().toISOString() }, await validation.findValidationBaseline({ database: 'production', at: new Date().toISOString() })), incremental: false });
  assert.equal(full.path?.kind, 'full');
  assert.ok(full.passed, full.summary.join('\n'));
});

const corruptions: Array<{ name: string; sql: string; undo: string; path: 'incremental' | 'full'; blocks: string[]; fellBackFor?: RegExp }> = [
  {
    name: 'a balance off by 0.01',
    sql: 'UPDATE accounts SET balance = balance + 0.01 WHERE id = 11',
    undo: 'UPDATE accounts SET balance = balance - 0.01 WHERE id = 11',
    path: 'incremental',
    blocks: ['ledger:accounts.balance'],
  },
  {
    name: 'an orphan (its foreign key bypassed)',
    sql: `SET session_replication_role = replica; INSERT INTO transactions (account_id, user_id, amount, description) VALUES (987654, 5, 5.00, 'orphan')`,
    undo: `DELETE FROM transactions WHERE account_id = 987654`,
    path: 'incremental',
    blocks: ['orphans:transactions.transactions_account_id_fkey'],
  },
  {
    // The schema forbids the other two kinds: planting them takes DDL, which the baseline cannot vouch for.
    name: 'a duplicated transaction (its UNIQUE dropped to let it in)',
    sql: `ALTER TABLE transactions DROP CONSTRAINT transactions_reference_key;
          INSERT INTO transactions (account_id, user_id, amount, currency, description, reference) SELECT account_id, user_id, amount, currency, description, reference FROM transactions WHERE description = 'after the baseline' ORDER BY id LIMIT 1`,
    undo: `DELETE FROM transactions WHERE id = (SELECT max(id) FROM transactions WHERE description = 'after the baseline'); ALTER TABLE transactions ADD CONSTRAINT transactions_reference_key UNIQUE (reference)`,
    path: 'full',
    blocks: ['business-key:transactions(reference)', 'schema'],
    fellBackFor: /the schema changed since the baseline/,
  },
  {
    name: 'a NULL amount (NOT NULL dropped to let it in)',
    sql: `ALTER TABLE transactions ALTER COLUMN amount DROP NOT NULL; INSERT INTO transactions (account_id, user_id, amount, description) SELECT id, user_id, NULL, 'null amount' FROM accounts WHERE id = 4`,
    undo: `DELETE FROM transactions WHERE description = 'null amount'; ALTER TABLE transactions ALTER COLUMN amount SET NOT NULL`,
    path: 'full',
    blocks: ['schema'],
    fellBackFor: /the schema changed since the baseline/,
  },
  {
    name: "a transaction the baseline holds rewritten, its balance with it",
    sql: `UPDATE accounts SET balance = balance + 0.01 WHERE id = (SELECT account_id FROM transactions WHERE id = 40); UPDATE transactions SET amount = amount + 0.01 WHERE id = 40`,
    undo: `UPDATE accounts SET balance = balance - 0.01 WHERE id = (SELECT account_id FROM transactions WHERE id = 40); UPDATE transactions SET amount = amount - 0.01 WHERE id = 40`,
    path: 'full',
    blocks: ['history:transactions'],
    fellBackFor: /append-only transactions that the baseline held were deleted or rewritten/,
  },
];

for (const c of corruptions) {
  test(`planted after the baseline, ${c.name}: caught (${c.path === 'incremental' ? 'by the incremental path' : 'the incremental path falls back to the full gate'})`, async () => {
    await onProduction(c.sql);
    try {
      const result = await gate();
      assert.equal(result.path?.kind, c.path, result.path?.detail);
      if (c.fellBackFor) assert.match(result.path!.detail, c.fellBackFor);
      assert.equal(result.passed, false);
      for (const id of c.blocks) assert.ok(blockingChecks(result).includes(id), `${id} blocks: ${result.summary.join('\n')}`);
    } finally {
      await onProduction(c.undo);
    }
  });
}

test('a baseline without segment totals (taken before them) is checked by the full gate, and says why', async () => {
  const lookup = await validation.findValidationBaseline({ database: 'production', at: new Date().toISOString() });
  assert.ok(lookup.found);
  const body = (await store.get(lookup.baselineKey))!.toString('utf8');
  const { incremental: _, ...older } = JSON.parse(body) as Record<string, unknown>;
  await store.put(lookup.baselineKey, JSON.stringify(older), 'application/json');
  try {
    const result = await gate();
    assert.equal(result.path?.kind, 'full');
    assert.match(result.path!.detail, /has no segment totals/);
    assert.match(result.summary[0]!, /^Full validation gate: /);
  } finally {
    await store.put(lookup.baselineKey, body, 'application/json');
  }
});

test('a change written before the baseline but committed after it (so not in it) cannot slip through: the full gate catches it', async () => {
  const open = new Client({ connectionString: appUrl });
  await open.connect();
  try {
    await open.query('BEGIN');
    await open.query(`SET LOCAL session_replication_role = replica`);
    await open.query(`INSERT INTO transactions (account_id, user_id, amount, description) VALUES (876543, 5, 7.00, 'orphan written before the baseline')`);
    // The backup and its baseline are taken while the orphan's transaction is open: the copy does not hold it.
    await takeBaseline('second');
    await open.query('COMMIT');
  } finally {
    await open.end();
  }
  try {
    const result = await gate();
    assert.equal(result.path?.kind, 'full', result.path?.detail);
    assert.match(result.path!.detail, /open at the baseline's point ended after it/);
    assert.ok(blockingChecks(result).includes('orphans:transactions.transactions_account_id_fkey'), result.summary.join('\n'));
  } finally {
    await onProduction(`DELETE FROM transactions WHERE account_id = 876543`);
  }
});
