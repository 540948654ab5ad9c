import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { financialContentHash, seedFinancialDataset, smallDataset, type SeedProgress } from '../../demo/financial-dataset';
import { startSteadyWriter } from '../../demo/steady-writer';
import { startPostgresCluster } from '../../activities/adapters/local/postgres/cluster';
import { startTestClusters, withClient } from '../support/clusters';

let env: Awaited<ReturnType<typeof startTestClusters>>;
const url = (database: string) => env.clusters.main!.url(database);

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const integrity = (database: string) => withClient(url(database), async (db) => (await db.query(`SELECT
  (SELECT count(*) FROM accounts a WHERE a.balance <> coalesce((SELECT sum(amount) FROM transactions t WHERE t.account_id = a.id), 0))::int AS unbalanced,
  (SELECT count(*) FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = a.user_id))::int
  + (SELECT count(*) FROM transactions t WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = t.account_id AND a.user_id = t.user_id))::int
  + (SELECT count(*) FROM savings_goals g WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = g.user_id))::int
  + (SELECT count(*) FROM subscriptions s WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id))::int
  + (SELECT count(*) FROM audit_logs l WHERE l.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = l.user_id))::int AS orphans,
  (SELECT count(*) FROM transactions)::int AS transactions,
  (SELECT count(*) FROM audit_logs)::int AS audit_logs`)).rows[0] as { unbalanced: number; orphans: number; transactions: number; audit_logs: number });

before(async () => {
  env = await startTestClusters(['main']);
  await withClient(url('postgres'), async (db) => {
    for (const name of ['same_a', 'same_b', 'other']) await db.query(`CREATE DATABASE ${name}`);
  });
});

after(async () => {
  await env?.stop();
});

test('the same seed and size give the same content; another seed does not; balances equal the ledger; no orphans', async () => {
  const progress: SeedProgress[] = [];
  const hashes: Record<string, string> = {};
  for (const [database, seed] of [['same_a', 5], ['same_b', 5], ['other', 6]] as const) {
    hashes[database] = await withClient(url(database), async (db) => {
      await seedFinancialDataset(db, smallDataset, seed, { chunkSize: 1000, onProgress: (p) => database === 'same_a' && progress.push(p) });
      return financialContentHash(db);
    });
  }
  assert.equal(hashes.same_a, hashes.same_b);
  assert.notEqual(hashes.same_a, hashes.other);
  const transactionsProgress = progress.filter((p) => p.table === 'transactions');
  assert.deepEqual(transactionsProgress.map((p) => p.done), [1000, 2000, 3000, 4000], 'committed in chunks, with progress');
  assert.equal(transactionsProgress.at(-1)!.total, smallDataset.users * smallDataset.transactionsPerUser);

  const checks = await integrity('same_a');
  assert.deepEqual(checks, { unbalanced: 0, orphans: 0, transactions: 4000, audit_logs: 300 });
  // Seeding again (an interrupted seed resumed) leaves the content as it was.
  assert.equal(await withClient(url('same_a'), async (db) => { await seedFinancialDataset(db, smallDataset, 5); return financialContentHash(db); }), hashes.same_a);
  await assert.rejects(withClient(url('other'), (db) => seedFinancialDataset(db, { users: 0, transactionsPerUser: 1 })), /size\.users must be a positive integer/);
});

test('the steady writer inserts at about its rate, balanced, and reports the newest commit', async () => {
  const writer = startSteadyWriter({ connectionString: url('same_b'), ratePerSecond: 20 });
  const started = Date.now();
  await until('40 rows are written', () => writer.stats().inserted >= 40);
  const result = await writer.stop();
  const elapsed = (Date.now() - started) / 1000;
  // Never faster than the rate (the schedule is the ceiling); lower bound loose for a busy machine.
  assert.ok(result.inserted <= 20 * elapsed + 2, `${result.inserted} rows in ${elapsed.toFixed(1)} s is faster than 20/s`);
  assert.equal(result.failures, 0);
  const newest = await withClient(url('same_b'), async (db) => (await db.query(`SELECT max(id)::text AS id, count(*)::int AS n, max(created_at) AS at FROM transactions WHERE description = 'steady-writer'`)).rows[0]);
  assert.equal(result.lastId, newest.id);
  assert.equal(newest.n, result.inserted);
  assert.equal(result.lastCreatedAt!.getTime(), newest.at.getTime());
  assert.ok(result.lastCommittedAt! >= result.lastCreatedAt!);
  assert.equal((await integrity('same_b')).unbalanced, 0);
});

test('the steady writer keeps going across a database restart, counting the failures', async () => {
  const errors: string[] = [];
  const writer = startSteadyWriter({ connectionString: url('other'), ratePerSecond: 25, label: 'through-restart', onError: (e) => errors.push(e.message) });
  try {
    await until('rows are written', () => writer.stats().inserted >= 5);
    const main = env.clusters.main!;
    await main.stop('fast');
    await until('the writer notices the database is gone', () => writer.stats().failures >= 3);
    const beforeRestart = writer.stats().inserted;
    env.clusters.main = await startPostgresCluster({ dir: main.dir, port: main.port });
    await until('rows are written again after the restart', () => writer.stats().inserted >= beforeRestart + 10, 30_000);
  } finally {
    await writer.stop();
  }
  const result = writer.stats();
  assert.ok(result.failures >= 3 && errors.length === result.failures);
  const written = await withClient(url('other'), async (db) => (await db.query(`SELECT count(*)::int AS n, max(id)::text AS id FROM transactions WHERE description = 'through-restart'`)).rows[0]);
  // A COMMIT cut off by the shutdown may have landed without its acknowledgement: never fewer rows than acknowledged.
  assert.ok(written.n >= result.inserted && written.n <= result.inserted + result.failures, `${written.n} rows for ${result.inserted} acknowledged`);
  assert.equal(written.id, result.lastId);
  assert.equal((await integrity('other')).unbalanced, 0, 'each insert and its balance update commit together');
});
