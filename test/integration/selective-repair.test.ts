import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createValidationActivities, type TableDiffSummary } from '../../activities/validation';
import { createMemoryObjectStore } from '../support/memory-object-store';
import { startTestPostgres, type TestPostgres } from '../support/postgres';

// An accidental deletion in production, a point-in-time copy ("recovered") from just before it, and
// writes production took after it. The repair must bring back exactly the deleted rows and keep the rest.
const dataset = { size: { users: 300, transactionsPerUser: 20 }, seed: 5 };
const tables = ['transactions', 'audit_logs', 'savings_goals', 'subscriptions', 'accounts', 'users']; // children first, on purpose
let pg: TestPostgres;
let activities: ReturnType<typeof createValidationActivities>;
let deletedCounts: Record<string, number>;

before(async () => {
  pg = await startTestPostgres();
  // Diffs in parts of 7 keys, so the repair reads every list back across many parts.
  activities = createValidationActivities(pg.databases, createMemoryObjectStore(), { diffPartKeys: 7 });
  await pg.createDatabase('recovered', dataset);
  await pg.createDatabase('production', dataset);
  // The copy must be exact whatever the servers' display settings.
  await pg.sql('postgres', `ALTER DATABASE recovered SET DateStyle = 'SQL, DMY'; ALTER DATABASE recovered SET TimeZone = 'America/New_York'`);
  const counts = async () => Object.fromEntries(await Promise.all(tables.map(async (t) => [t, Number((await pg.sql('production', `SELECT count(*) FROM ${t}`))[0]!.count)] as const)));
  const before = await counts();
  // The deletion: users 10-12 with everything they own, and a run of transactions.
  await pg.sql('production', `
    DELETE FROM transactions WHERE user_id BETWEEN 10 AND 12 OR id BETWEEN 100 AND 199;
    DELETE FROM savings_goals WHERE user_id BETWEEN 10 AND 12;
    DELETE FROM subscriptions WHERE user_id BETWEEN 10 AND 12;
    DELETE FROM audit_logs WHERE user_id BETWEEN 10 AND 12;
    DELETE FROM accounts WHERE user_id BETWEEN 10 AND 12;
    DELETE FROM users WHERE id BETWEEN 10 AND 12;`);
  const afterDeletion = await counts();
  deletedCounts = Object.fromEntries(tables.map((t) => [t, before[t]! - afterDeletion[t]!]));
  // Later writes: a new user with an account and transactions, and a legitimate edit of a surviving row.
  await pg.sql('production', `
    INSERT INTO users (id, email) VALUES (301, 'late@example.test');
    INSERT INTO accounts (id, user_id) VALUES (401, 301);
    INSERT INTO transactions (account_id, user_id, amount, description) SELECT 401, 301, 12.34, 'after the deletion' FROM generate_series(1, 5);
    UPDATE transactions SET description = 'edited after the deletion' WHERE id = 500;
    SELECT setval('transactions_id_seq', 50, true);`); // as if the sequence had been reset: it must end up ahead again
});

after(async () => {
  await pg?.stop();
});

/** Every row of every table, hashed per table, in UTC: equal fingerprints mean nothing changed. */
async function fingerprint(database: string): Promise<Record<string, string>> {
  const rows = await pg.sql(database, `SET TimeZone = 'UTC'; SELECT ${tables.map((t) => `(SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM ${t} x) AS ${t}`).join(', ')}`);
  return rows[0] as Record<string, string>;
}

async function diffAll(): Promise<TableDiffSummary[]> {
  const diffs: TableDiffSummary[] = [];
  for (const table of tables) diffs.push(await activities.diffTable({ source: 'recovered', target: 'production', table, bisectionFactor: 4, bisectionThreshold: 32 }));
  return diffs;
}

test('a dry run shows per-table counts and changes nothing', async () => {
  const diffs = await diffAll();
  const untouched = await fingerprint('production');
  const plan = await activities.repairMissingRows({ source: 'recovered', target: 'production', diffKeys: diffs.map((d) => d.diffKey), dryRun: true });
  assert.equal(plan.dryRun, true);
  assert.deepEqual(plan.tables.map((t) => t.table), ['users', 'accounts', 'audit_logs', 'savings_goals', 'subscriptions', 'transactions'], 'parents first');
  for (const t of plan.tables) assert.equal(t.inserted, deletedCounts[t.table], `${t.table} would get back what was deleted`);
  assert.ok(deletedCounts['transactions']! > 100 && deletedCounts['users'] === 3 && deletedCounts['audit_logs']! > 0);
  assert.equal(plan.tables.find((t) => t.table === 'transactions')!.changed, 1);
  assert.equal(plan.totalOverwritten, 0);
  assert.match(plan.summary.find((l) => l.startsWith('transactions:'))!, /^transactions: would insert \d+ of \d+ missing rows \(0 already present, 0 not in source\); 1 changed rows, left as they are$/);
  assert.deepEqual(await fingerprint('production'), untouched);
});

test('the repair restores exactly the deleted rows, keeps later writes, and a second repair changes nothing', async () => {
  const diffs = await diffAll();
  const result = await activities.repairMissingRows({ source: 'recovered', target: 'production', diffKeys: diffs.map((d) => d.diffKey), dryRun: false, batchSize: 40 });
  for (const t of result.tables) assert.equal(t.inserted, deletedCounts[t.table], `${t.table}: restored what was deleted`);
  assert.equal(result.totalInserted, Object.values(deletedCounts).reduce((a, b) => a + b, 0));
  assert.deepEqual(result.tables.find((t) => t.table === 'transactions')!.sequencesAdvanced, ['public.transactions_id_seq']);

  // Compared again, production lacks nothing; the later writes and the later edit are still there.
  const after = await diffAll();
  for (const d of after) assert.deepEqual(d.missingInTarget, [], `${d.table}: nothing missing any more`);
  const byTable = new Map(after.map((d) => [d.table, d]));
  assert.deepEqual(byTable.get('users')!.extraInTarget, ['301']);
  assert.deepEqual(byTable.get('accounts')!.extraInTarget, ['401']);
  assert.equal(byTable.get('transactions')!.extraInTarget.length, 5);
  assert.deepEqual(byTable.get('transactions')!.changed, ['500']);
  const [edited] = await pg.sql('production', 'SELECT description FROM transactions WHERE id = 500');
  assert.equal(edited!.description, 'edited after the deletion');
  // Restored rows are the recovered rows to the microsecond and the cent.
  const row = `SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SELECT t::text AS row FROM transactions t WHERE id = 150`;
  assert.deepEqual(await pg.sql('production', row), await pg.sql('recovered', row));
  // The sequence is ahead of every id again: the application's next insert does not collide.
  await pg.sql('production', `INSERT INTO transactions (account_id, user_id, amount, description) VALUES (401, 301, 1.00, 'next insert')`);

  const settled = await fingerprint('production');
  const again = await activities.repairMissingRows({ source: 'recovered', target: 'production', diffKeys: diffs.map((d) => d.diffKey), dryRun: false });
  assert.equal(again.totalInserted, 0);
  for (const t of again.tables) assert.equal(t.alreadyPresent, deletedCounts[t.table]);
  assert.deepEqual(await fingerprint('production'), settled);
});

test('changed rows are overwritten only when asked, and only once', async () => {
  const diffs = await diffAll();
  const keys = diffs.map((d) => d.diffKey);
  const plan = await activities.repairMissingRows({ source: 'recovered', target: 'production', diffKeys: keys, dryRun: true, overwriteChanged: true });
  assert.equal(plan.totalOverwritten, 1);
  const result = await activities.repairMissingRows({ source: 'recovered', target: 'production', diffKeys: keys, dryRun: false, overwriteChanged: true });
  assert.equal(result.totalOverwritten, 1);
  assert.equal(result.totalInserted, 0);
  const [row] = await pg.sql('production', 'SELECT description FROM transactions WHERE id = 500');
  const [original] = await pg.sql('recovered', 'SELECT description FROM transactions WHERE id = 500');
  assert.equal(row!.description, original!.description);
  assert.equal((await activities.repairMissingRows({ source: 'recovered', target: 'production', diffKeys: keys, dryRun: false, overwriteChanged: true })).totalOverwritten, 0);
});

test('bad input is refused naming the field', async () => {
  const refused = (input: object) => activities.repairMissingRows({ source: 'recovered', target: 'production', diffKeys: ['diffs/none.json'], dryRun: true, ...input }).then(() => assert.fail('accepted'), (e: { type?: string; message: string }) => e);
  assert.match((await refused({})).message, /^diffKeys\.0: no diff stored under "diffs\/none.json"$/);
  assert.match((await refused({ diffKeys: [] })).message, /^diffKeys: must name at least one diff/);
  assert.match((await refused({ target: 'recovered' })).message, /^target: must differ from source/);
  assert.match((await refused({ dryRun: 'yes' })).message, /^dryRun: /);
});
