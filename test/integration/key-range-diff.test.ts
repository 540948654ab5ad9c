import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Pool } from 'pg';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createValidationActivities, type TableDiffSummary } from '../../activities/validation';
import { openStoredDiff } from '../../activities/validation/diff-parts';
import { diffTable, keysPerLookUp } from '../../activities/validation/key-range-diff';
import type { ObjectStore } from '../../activities/ports/object-store';
import { createMemoryObjectStore } from '../support/memory-object-store';
import { startTestPostgres, type TestPostgres } from '../support/postgres';

// Two databases seeded identically (20k transactions): "recovered" stays as the backup had it,
// "production" then loses, changes and gains rows. The diff must name exactly those keys.
const dataset = { size: { users: 1000, transactionsPerUser: 20 }, seed: 11 };
let pg: TestPostgres;

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
const deleted = [...range(101, 150), ...range(1, 20000).filter((id) => Number(id) % 997 === 0 && (Number(id) < 101 || Number(id) > 150)), '20000'].sort((a, b) => Number(a) - Number(b));
const changed = ['1', '5000', '7777', '12345', '19999'];
const added = range(20001, 20010);

before(async () => {
  pg = await startTestPostgres();
  await pg.createDatabase('recovered', dataset);
  await pg.createDatabase('production', dataset);
  // Equal rows must hash equally even when the two servers print timestamps in different zones.
  await pg.sql('postgres', `ALTER DATABASE production SET timezone = 'Asia/Tokyo'`);
  await pg.sql('production', `
    DELETE FROM transactions WHERE id BETWEEN 101 AND 150 OR id % 997 = 0 OR id = 20000;
    UPDATE transactions SET amount = amount + 0.01 WHERE id = 1;
    UPDATE transactions SET description = description || '!' WHERE id = 5000;
    UPDATE transactions SET created_at = created_at + interval '1 microsecond' WHERE id = 7777;
    UPDATE transactions SET account_id = account_id % 1333 + 1 WHERE id = 12345;
    UPDATE transactions SET user_id = user_id % 1000 + 1 WHERE id = 19999;
    INSERT INTO transactions (account_id, user_id, amount, description, created_at)
      SELECT 1, 1, 5.00, 'written after the deletion', now() FROM generate_series(1, 10);
    DELETE FROM subscriptions;
    DELETE FROM savings_goals WHERE id % 7 = 0;
    UPDATE savings_goals SET name = name || '*' WHERE id IN (100, 333);
    UPDATE accounts SET currency = 'EUR' WHERE id IN (7, 900);
    INSERT INTO accounts (id, user_id) VALUES (5000, 1);`);
});

after(async () => {
  await pg?.stop();
});

test('deleted, changed and added rows come out as exact key lists, bisecting only the differing ranges', async () => {
  const diff = await diffTable(await pg.databases.pool('recovered'), await pg.databases.pool('production'), { table: 'transactions', bisectionFactor: 4, bisectionThreshold: 64 });
  assert.deepEqual(diff.missingInTarget, deleted);
  assert.deepEqual(diff.extraInTarget, added);
  assert.deepEqual(diff.changed, changed);
  assert.equal(diff.key, 'id');
  assert.equal(diff.sourceRows, '20000');
  assert.equal(diff.targetRows, String(20000 - deleted.length + added.length));
  // Bisection went several levels deep, and key-by-key comparison touched only the differing ranges.
  assert.ok(diff.stats.maxDepth >= 4, `maxDepth ${diff.stats.maxDepth}`);
  assert.ok(diff.stats.keysCompared < 10_000, `compared ${diff.stats.keysCompared} keys of 40,000 rows`);
  assert.ok(diff.stats.keysCompared >= 2 * (deleted.length + changed.length), 'every difference was confirmed key by key');
});

test('identical tables differ nowhere and are never compared key by key', async () => {
  const diff = await diffTable(await pg.databases.pool('recovered'), await pg.databases.pool('production'), { table: 'users', bisectionFactor: 4, bisectionThreshold: 64 });
  assert.deepEqual([diff.missingInTarget, diff.extraInTarget, diff.changed], [[], [], []]);
  assert.equal(diff.stats.keysCompared, 0);
  assert.equal(diff.stats.checksumQueries, 2);
  assert.equal(diff.sourceRows, '1000');
});

test('a few differences are found by bisection alone, comparing only their small ranges key by key', async () => {
  const diff = await diffTable(await pg.databases.pool('recovered'), await pg.databases.pool('production'), { table: 'accounts', bisectionFactor: 16, bisectionThreshold: 16 });
  assert.deepEqual([diff.missingInTarget, diff.extraInTarget, diff.changed], [[], ['5000'], ['7', '900']]);
  assert.equal(diff.stats.keyRunScans, 0);
  assert.ok(diff.stats.keysCompared <= 3 * 2 * 16, `compared ${diff.stats.keysCompared} keys of ${Number(diff.sourceRows) * 2} rows`);
});

test('a table emptied in production lists every key as missing', async () => {
  const diff = await diffTable(await pg.databases.pool('recovered'), await pg.databases.pool('production'), { table: 'subscriptions', bisectionThreshold: 16 });
  assert.deepEqual(diff.missingInTarget, range(1, 250));
  assert.equal(diff.targetRows, '0');
});

test('scattered losses everywhere (every 7th row) come from runs of keys, and changed rows among them are still found', async () => {
  const diff = await diffTable(await pg.databases.pool('recovered'), await pg.databases.pool('production'), { table: 'savings_goals', bisectionFactor: 4, bisectionThreshold: 8 });
  assert.deepEqual(diff.missingInTarget, range(1, 500).filter((id) => Number(id) % 7 === 0));
  assert.deepEqual(diff.extraInTarget, []);
  assert.deepEqual(diff.changed, ['100', '333']);
  // One scan of key runs instead of bisecting every range; below it, only the sub-ranges holding a changed
  // row scan their (smaller) key runs again, to sum their own one-sided keys without holding them.
  assert.ok(diff.stats.keyRunScans >= 1 && diff.stats.keyRunScans <= 1 + 2 * diff.stats.maxDepth, `${diff.stats.keyRunScans} key-run scans`);
  // Only the ranges holding the two changed rows were compared row by row (each at most 8 rows a side).
  assert.ok(diff.stats.keysCompared > 0 && diff.stats.keysCompared <= 4 * 8, `compared ${diff.stats.keysCompared} keys`);
});

test('scattered losses and gains on both sides, at the first and the last key, are found from the gaps of each side; rows changed among them too', async () => {
  // Two tables the fixture does not touch: in `marks_both` each side lacks keys the other has, so
  // both sides' gaps are read; in `marks_one` only production lost rows, so the recovered side is
  // dense and its gap scan is skipped. Both lose their first and last key.
  const ids = range(1, 3000).map(Number);
  for (const db of ['recovered', 'production']) {
    await pg.sql(db, `CREATE TABLE marks_both AS SELECT g::bigint AS id, md5(g::text) AS v FROM generate_series(1, 3000) g; ALTER TABLE marks_both ADD PRIMARY KEY (id);
      CREATE TABLE marks_one AS SELECT * FROM marks_both; ALTER TABLE marks_one ADD PRIMARY KEY (id);`);
  }
  await pg.sql('production', `DELETE FROM marks_both WHERE id % 5 = 0 OR id IN (1, 3000); UPDATE marks_both SET v = v || '!' WHERE id IN (2, 1234, 2998);
    DELETE FROM marks_one WHERE id % 9 = 4 OR id IN (1, 2, 3000); UPDATE marks_one SET v = 'x' WHERE id IN (3, 1500)`);
  await pg.sql('recovered', 'DELETE FROM marks_both WHERE id % 7 = 3 OR id BETWEEN 1500 AND 1520');
  const inRecovered = (id: number) => !(id % 7 === 3 || (id >= 1500 && id <= 1520));
  const inProduction = (id: number) => !(id % 5 === 0 || id === 1 || id === 3000);
  const both = await diffTable(await pg.databases.pool('recovered'), await pg.databases.pool('production'), { table: 'marks_both', bisectionFactor: 4, bisectionThreshold: 8 });
  assert.deepEqual(both.missingInTarget, ids.filter((id) => inRecovered(id) && !inProduction(id)).map(String));
  assert.deepEqual(both.extraInTarget, ids.filter((id) => !inRecovered(id) && inProduction(id)).map(String));
  assert.deepEqual(both.changed, ['2', '1234', '2998']);
  assert.ok(both.stats.keyRunScans >= 1, 'read from the gaps, not bisected');

  const one = await diffTable(await pg.databases.pool('recovered'), await pg.databases.pool('production'), { table: 'marks_one', bisectionFactor: 4, bisectionThreshold: 8 });
  assert.deepEqual(one.missingInTarget, ids.filter((id) => id % 9 === 4 || [1, 2, 3000].includes(id)).map(String));
  assert.deepEqual([one.extraInTarget, one.changed], [[], ['3', '1500']]);
  assert.ok(one.stats.keyRunScans >= 1, 'read from the gaps, not bisected');
});

test('gaps read chunk by chunk on a dense side and by key on a sparse one: runs across chunks, whole empty chunks, the first and the last keys', async () => {
  // marks_runs is dense (its gaps come from 64-key chunk masks): production loses runs that span
  // chunk edges, several whole chunks (1000–1408 ends where a full chunk begins), and its last 150 keys,
  // plus every 3rd key above 2000. marks_sparse holds one key in 20 (too sparse for chunks: its gaps
  // come from the window scan of its keys).
  for (const db of ['recovered', 'production']) {
    await pg.sql(db, `CREATE TABLE marks_runs AS SELECT g::bigint AS id, md5(g::text) AS v FROM generate_series(1, 5000) g; ALTER TABLE marks_runs ADD PRIMARY KEY (id);
      CREATE TABLE marks_sparse AS SELECT (g * 20)::bigint AS id, md5(g::text) AS v FROM generate_series(1, 1000) g; ALTER TABLE marks_sparse ADD PRIMARY KEY (id);`);
  }
  const lostRun = (id: number) => id <= 130 || (id >= 700 && id <= 900) || (id >= 1000 && id <= 1408) || id > 4850 || (id > 2000 && id % 3 === 1);
  await pg.sql('production', `DELETE FROM marks_runs WHERE id <= 130 OR id BETWEEN 700 AND 900 OR id BETWEEN 1000 AND 1408 OR id > 4850 OR (id > 2000 AND id % 3 = 1);
    UPDATE marks_runs SET v = 'x' WHERE id IN (131, 4850);
    DELETE FROM marks_sparse WHERE id % 60 = 0 OR id IN (20, 20000); UPDATE marks_sparse SET v = 'y' WHERE id = 40`);
  const runs = await diffTable(await pg.databases.pool('recovered'), await pg.databases.pool('production'), { table: 'marks_runs', bisectionFactor: 4, bisectionThreshold: 8 });
  assert.deepEqual(runs.missingInTarget, range(1, 5000).filter((id) => lostRun(Number(id))));
  assert.deepEqual([runs.extraInTarget, runs.changed], [[], ['131', '4850']]);
  assert.ok(runs.stats.keyRunScans >= 1, 'read from the gaps, not bisected');
  // The other way round, the same gaps are production's extra keys (the dense side is the recovered one).
  const reversed = await diffTable(await pg.databases.pool('production'), await pg.databases.pool('recovered'), { table: 'marks_runs', bisectionFactor: 4, bisectionThreshold: 8 });
  assert.deepEqual([reversed.missingInTarget, reversed.extraInTarget], [[], runs.missingInTarget]);

  const sparse = await diffTable(await pg.databases.pool('recovered'), await pg.databases.pool('production'), { table: 'marks_sparse', bisectionFactor: 4, bisectionThreshold: 8 });
  assert.deepEqual(sparse.missingInTarget, range(1, 1000).map((g) => Number(g) * 20).filter((id) => id % 60 === 0 || id === 20 || id === 20000).map(String));
  assert.deepEqual([sparse.extraInTarget, sparse.changed], [[], ['40']]);
});

test('a dense side sums the other side\'s gaps by key, at most keysPerLookUp keys a query, and long gaps by range: every key still found', async () => {
  // 24,000 keys; production loses every 2nd key of the first 20,000 (10,000 one-key gaps: three
  // look-ups), one run of 1,500 keys (looked up as a range), and changes one row among them.
  for (const db of ['recovered', 'production']) {
    await pg.sql(db, `CREATE TABLE marks_dense AS SELECT g::bigint AS id, md5(g::text) AS v FROM generate_series(1, 24000) g; ALTER TABLE marks_dense ADD PRIMARY KEY (id);`);
  }
  const lost = (id: number) => (id <= 20000 && id % 2 === 0) || (id >= 21000 && id < 22500);
  await pg.sql('production', `DELETE FROM marks_dense WHERE (id <= 20000 AND id % 2 = 0) OR id BETWEEN 21000 AND 22499; UPDATE marks_dense SET v = 'z' WHERE id = 23001`);
  // A pool of its own, so every connection it opens is watched.
  const source = new Pool((await pg.databases.pool('recovered')).options);
  const lookUps: number[] = [];
  const record = (client: { query: (...args: never[]) => unknown }) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text ?? '';
      const keys = /= ANY\('\{([^}]*)\}'::bigint\[\]\)/.exec(text);
      if (keys) lookUps.push(keys[1]!.split(',').length);
      return query(...args);
    }) as never;
  };
  source.on('connect', record as never);
  try {
    const diff = await diffTable(source, await pg.databases.pool('production'), { table: 'marks_dense', bisectionFactor: 8, bisectionThreshold: 16 });
    assert.deepEqual(diff.missingInTarget, range(1, 24000).filter((id) => lost(Number(id))));
    assert.deepEqual([diff.extraInTarget, diff.changed], [[], ['23001']]);
    assert.ok(lookUps.length >= 3, `the 10,000 one-key gaps took ${lookUps.length} look-ups`);
    assert.ok(lookUps.every((n) => n <= keysPerLookUp), `look-ups of ${lookUps.join(', ')} keys`);
    assert.equal(lookUps.reduce((a, b) => a + b, 0), 10_000, 'the long gap was looked up as a range, not key by key');
  } finally {
    await source.end();
  }
});

test('the whole range read as bitmaps of each side\'s keys in its checksum pass: the same keys as from the gaps, each side lacking keys, runs, empty chunks, an emptied table', async () => {
  // bitmapMinKeys: 1 puts these small tables on the path wide tables take by default. The tables are
  // those of the tests above; the expected lists are theirs.
  const recovered = await pg.databases.pool('recovered');
  const production = await pg.databases.pool('production');
  const viaBitmaps = (table: string, options: object = {}) => diffTable(recovered, production, { table, bisectionFactor: 4, bisectionThreshold: 8, bitmapMinKeys: 1, ...options });
  const all = await viaBitmaps('transactions', { bisectionThreshold: 64 });
  assert.deepEqual([all.missingInTarget, all.extraInTarget, all.changed], [deleted, added, changed]);
  assert.equal(all.stats.keyBitmaps, 2);
  assert.deepEqual([all.sourceRows, all.targetRows], ['20000', String(20000 - deleted.length + added.length)]);

  const ids = range(1, 3000).map(Number);
  const both = await viaBitmaps('marks_both');
  assert.deepEqual(both.missingInTarget, ids.filter((id) => !(id % 7 === 3 || (id >= 1500 && id <= 1520)) && (id % 5 === 0 || id === 1 || id === 3000)).map(String));
  assert.deepEqual(both.extraInTarget, ids.filter((id) => (id % 7 === 3 || (id >= 1500 && id <= 1520)) && !(id % 5 === 0 || id === 1 || id === 3000)).map(String));
  assert.deepEqual(both.changed, ['2', '1234', '2998']);
  assert.equal(both.stats.keyBitmaps, 2);

  const runs = await viaBitmaps('marks_runs');
  const lostRun = (id: number) => id <= 130 || (id >= 700 && id <= 900) || (id >= 1000 && id <= 1408) || id > 4850 || (id > 2000 && id % 3 === 1);
  assert.deepEqual(runs.missingInTarget, range(1, 5000).filter((id) => lostRun(Number(id))));
  assert.deepEqual([runs.extraInTarget, runs.changed], [[], ['131', '4850']]);
  const reversed = await diffTable(production, recovered, { table: 'marks_runs', bisectionFactor: 4, bisectionThreshold: 8, bitmapMinKeys: 1 });
  assert.deepEqual([reversed.missingInTarget, reversed.extraInTarget, reversed.changed], [[], runs.missingInTarget, ['131', '4850']]);

  const emptied = await viaBitmaps('subscriptions');
  assert.deepEqual([emptied.missingInTarget, emptied.targetRows], [range(1, 250), '0']);
  const same = await viaBitmaps('users');
  assert.deepEqual([same.missingInTarget, same.extraInTarget, same.changed, same.stats.keysCompared], [[], [], [], 0]);
});

test('a table wider than bitmapMinKeys is read as bitmaps by default, analysed or not, and keys past 2^53 come out exact', async () => {
  // 70,000 keys: every 10th lost, a run of 5,000 lost, two rows changed; one key gained past the last.
  const wide = 70_000;
  const lost = (id: number) => id % 10 === 3 || (id > 40_000 && id <= 45_000);
  for (const db of ['recovered', 'production']) {
    await pg.sql(db, `CREATE TABLE marks_wide AS SELECT g::bigint AS id, md5(g::text) AS v FROM generate_series(1, ${wide}) g; ALTER TABLE marks_wide ADD PRIMARY KEY (id);
      CREATE TABLE marks_huge AS SELECT (9007199254740000 + g)::bigint AS id, md5(g::text) AS v FROM generate_series(1, 3000) g; ALTER TABLE marks_huge ADD PRIMARY KEY (id);`);
  }
  await pg.sql('production', `DELETE FROM marks_wide WHERE id % 10 = 3 OR id BETWEEN 40001 AND 45000; UPDATE marks_wide SET v = 'w' WHERE id IN (17, 69999);
    INSERT INTO marks_wide VALUES (${wide + 1}, 'new'); DELETE FROM marks_huge WHERE id % 4 = 1; UPDATE marks_huge SET v = 'h' WHERE id = 9007199254742002`);
  const recovered = await pg.databases.pool('recovered');
  const production = await pg.databases.pool('production');
  for (const analysed of [false, true]) {
    if (analysed) for (const db of ['recovered', 'production']) await pg.sql(db, 'ANALYZE marks_wide');
    const diff = await diffTable(recovered, production, { table: 'marks_wide' });
    assert.deepEqual(diff.missingInTarget, range(1, wide).filter((id) => lost(Number(id))), `analysed: ${analysed}`);
    assert.deepEqual([diff.extraInTarget, diff.changed], [[String(wide + 1)], ['17', '69999']]);
    assert.equal(diff.stats.keyBitmaps, 2, 'read as bitmaps');
    assert.equal(diff.stats.rangesCompared, 3, 'the whole range, then only the two sub-ranges holding a changed row, key by key');
    // The one-sided rows' sums came out of both checksums: only the two sub-ranges with a changed row differ.
    assert.ok(diff.stats.keysCompared > 0 && diff.stats.keysCompared <= 4 * 2048, `compared ${diff.stats.keysCompared} keys`);
  }
  const huge = await diffTable(recovered, production, { table: 'marks_huge', bisectionFactor: 4, bisectionThreshold: 8, bitmapMinKeys: 1 });
  const hugeIds = Array.from({ length: 3000 }, (_, i) => 9007199254740001n + BigInt(i));
  assert.deepEqual(huge.missingInTarget, hugeIds.filter((id) => id % 4n === 1n).map(String));
  assert.deepEqual([huge.extraInTarget, huge.changed], [[], ['9007199254742002']]);
  assert.equal(huge.stats.keyBitmaps, 2);
});

/** Reads a stored diff's lists back whole, part by part. */
async function readBack(store: ObjectStore, diffKey: string) {
  const diff = (await openStoredDiff(store, diffKey))!;
  const lists: string[][] = [];
  for (const list of ['missingInTarget', 'extraInTarget', 'changed'] as const) {
    const keys: string[] = [];
    for await (const batch of diff.batches(list, 10)) keys.push(...batch);
    lists.push(keys);
  }
  return lists;
}

test('the activity streams the diff to the object store in parts of at most diffPartKeys keys, returns counts and the first keys, and refuses a bad table or key, naming the field', async () => {
  const store = createMemoryObjectStore();
  const activities = createValidationActivities(pg.databases, store, { diffPartKeys: 16 });
  const summary = await activities.diffTable({ source: 'recovered', target: 'production', table: 'transactions', bisectionFactor: 8, bisectionThreshold: 256 });
  assert.deepEqual([summary.missingCount, summary.extraCount, summary.changedCount], [deleted.length, added.length, changed.length]);
  assert.equal(summary.keysTruncated, true);
  assert.deepEqual(summary.missingInTarget, deleted.slice(0, 20), 'only the first keys travel in the result');
  assert.deepEqual([summary.extraInTarget, summary.changed], [added, changed]);
  assert.match(summary.diffKey, /^diffs\/production\/[^/]+\/transactions\/manifest\.json$/);
  assert.deepEqual(await readBack(store, summary.diffKey), [deleted, added, changed]);
  const prefix = summary.diffKey.slice(0, -'manifest.json'.length);
  const parts = (await store.list(prefix)).filter((k) => k.endsWith('.ndjson'));
  assert.equal(parts.filter((k) => k.includes('/missingInTarget-')).length, Math.ceil(deleted.length / 16));
  for (const part of parts) assert.ok((await store.get(part))!.toString('utf8').trim().split('\n').length <= 16, part);

  const refused = (input: object) => activities.diffTable({ source: 'recovered', target: 'production', table: 'transactions', ...input }).then(() => assert.fail('accepted'), (e: { type?: string; message: string }) => e);
  assert.match((await refused({ table: 'no_such_table' })).message, /^table: no table "no_such_table" in the source database$/);
  assert.match((await refused({ key: 'description' })).message, /^key: column description is text; key-range diff needs an integer key$/);
  assert.match((await refused({ table: 'x; DROP TABLE users' })).message, /^table: must be a table name/);
  assert.equal((await refused({ target: 'elsewhere' })).type, 'InvalidInput');
});

test('a diff that crashed half-way has no manifest and is refused by the repair; its retry rewrites the same parts and the repair reads them all', async () => {
  const store = createMemoryObjectStore();
  let puts = 0;
  const crashing: ObjectStore = { ...store, put: async (key, body, type) => {
    if (++puts === 3) throw new Error('worker lost (simulated crash after two parts)');
    await store.put(key, body, type);
  } };
  const info = { workflowExecution: { workflowId: 'deletion-drill-1', runId: 'run-1' }, activityId: '12' };
  const input = { source: 'recovered', target: 'production', table: 'transactions', bisectionFactor: 8, bisectionThreshold: 256 };
  const crashed = await new MockActivityEnvironment(info).run(createValidationActivities(pg.databases, crashing, { diffPartKeys: 16 }).diffTable, input).then(() => assert.fail('finished'), (e: Error) => e);
  assert.match(crashed.message, /simulated crash/);
  const written = store.keys();
  assert.ok(written.length === 2 && written.every((k) => k.startsWith('diffs/production/deletion-drill-1/12/transactions/') && k.endsWith('.ndjson')), written.join(', '));
  const activities = createValidationActivities(pg.databases, store, { diffPartKeys: 16 });
  const diffKey = 'diffs/production/deletion-drill-1/12/transactions/manifest.json';
  const refused = await activities.repairMissingRows({ source: 'recovered', target: 'production', diffKeys: [diffKey], dryRun: true }).then(() => assert.fail('accepted'), (e: { type?: string; message: string }) => e);
  assert.equal(refused.type, 'InvalidInput');
  assert.match(refused.message, /^diffKeys\.0: the diff under "diffs\/production\/deletion-drill-1\/12\/transactions\/" was never finished \(its parts are there, its manifest is not\): run the comparison again$/);

  const retried = (await new MockActivityEnvironment(info).run(activities.diffTable, input)) as TableDiffSummary;
  assert.equal(retried.diffKey, diffKey);
  assert.ok(written.every((k) => store.keys().includes(k)), 'the retry rewrote the parts under the same names');
  assert.deepEqual(await readBack(store, diffKey), [deleted, added, changed]);
  const plan = await activities.repairMissingRows({ source: 'recovered', target: 'production', diffKeys: [diffKey], dryRun: true, batchSize: 7 });
  assert.deepEqual([plan.tables[0]!.missingInDiff, plan.tables[0]!.inserted, plan.tables[0]!.changed], [deleted.length, deleted.length, changed.length]);

  // A part rewritten after its manifest (an older manifest beside a newer attempt's parts) is refused, not mixed in.
  await store.put(written[0]!, '"1"\n');
  const mixed = await activities.repairMissingRows({ source: 'recovered', target: 'production', diffKeys: [diffKey], dryRun: true }).then(() => assert.fail('accepted'), (e: Error) => e);
  assert.match(mixed.message, /is not the one its manifest names/);
});

test('inside a worker the diff heartbeats its progress and stops when cancelled', async () => {
  const activities = createValidationActivities(pg.databases, createMemoryObjectStore());
  const input = { source: 'recovered', target: 'production', table: 'transactions', bisectionFactor: 4, bisectionThreshold: 64 };
  const env = new MockActivityEnvironment();
  const beats: Array<{ rangesCompared: number }> = [];
  env.on('heartbeat', (details: { rangesCompared: number }) => beats.push(details));
  await env.run(activities.diffTable, input);
  assert.ok(beats.length > 10, `${beats.length} heartbeats`);
  assert.ok(beats.at(-1)!.rangesCompared > beats[0]!.rangesCompared);

  const cancelled = new MockActivityEnvironment();
  cancelled.cancel();
  const error = await cancelled.run(activities.diffTable, input).then(() => assert.fail('ran to the end'), (e: unknown) => e);
  assert.ok(error instanceof CancelledFailure, String(error));
});
