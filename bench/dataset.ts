import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { benchDataset, seedFinancialDataset, type DatasetSize } from '../demo/financial-dataset';
import type { DatabasePlatform } from '../activities/ports/database-platform';
import { InstanceRegistry } from '../activities/adapters/local/postgres/instance-registry';
import { writeFileAtomic } from '../lib/atomic-file';

export type Scale = 'small' | 'full';

/** full: the issue's ~1.5 GB, 10M transactions. small: 1M transactions, for a quick check (minutes, not an hour). */
export const scales: Record<Scale, DatasetSize> = {
  small: { users: 50_000, transactionsPerUser: 20 },
  full: benchDataset,
};

export function parseScale(value: string | undefined): Scale {
  if (value === 'small' || value === 'full') return value;
  throw new Error(`--scale must be small or full, got "${value}"`);
}

/** Bumped when demo/financial-schema.sql changes, so a cluster seeded with the older schema is not reused. */
const schemaVersion = 2;

/** The cached cluster's directory name: a different size, seed or schema is a different dataset. */
export function datasetKey(size: DatasetSize, seed: number): string {
  return `${size.users}u-${size.transactionsPerUser}tpu-seed${seed}-schema${schemaVersion}`;
}

/** A tenth of transactions as its own table (same columns, same primary key): the 1/10-size diff of the memory benchmark. */
export const tenthTable = 'bench_transactions_tenth';

interface DatasetMarker {
  size: DatasetSize;
  seed: number;
  seededAt: string;
  transactions: number;
}

/**
 * Seeds the production database once per size and seed, and marks it done; later runs reuse the
 * cluster as it is. Seeding resumes after an interruption (the seed commits in chunks, ON CONFLICT DO NOTHING).
 */
export async function ensureDataset(options: { stateDir: string; productionUrl: string; size: DatasetSize; seed: number; log: (line: string) => void }): Promise<DatasetMarker> {
  const markerFile = path.join(options.stateDir, 'dataset.json');
  if (existsSync(markerFile)) {
    const marker = JSON.parse(readFileSync(markerFile, 'utf8')) as DatasetMarker;
    options.log(`reusing the cached dataset (${marker.transactions.toLocaleString('en-US')} transactions, seeded ${marker.seededAt})`);
    return marker;
  }
  const db = new Client({ connectionString: options.productionUrl });
  await db.connect();
  try {
    const started = Date.now();
    const total = options.size.users * options.size.transactionsPerUser;
    options.log(`seeding ${options.size.users.toLocaleString('en-US')} users and ${total.toLocaleString('en-US')} transactions (seed ${options.seed}); this is the long step`);
    await seedFinancialDataset(db, options.size, options.seed, {
      chunkSize: 250_000,
      onProgress: (p) => options.log(`  seed ${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s  ${p.table.padEnd(14)} ${p.done.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')}`),
    });
    options.log(`copying a tenth of transactions into ${tenthTable}`);
    await db.query(`DROP TABLE IF EXISTS ${tenthTable}`);
    await db.query(`CREATE TABLE ${tenthTable} AS SELECT * FROM transactions WHERE id <= $1`, [Math.floor(total / 10)]);
    await db.query(`ALTER TABLE ${tenthTable} ADD PRIMARY KEY (id)`);
    await db.query('CREATE TABLE IF NOT EXISTS bench_marks (id bigserial PRIMARY KEY, label text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())');
    options.log('VACUUM ANALYZE');
    await db.query('VACUUM ANALYZE');
    const size = (await db.query<{ size: string }>('SELECT pg_size_pretty(pg_database_size(current_database())) AS size')).rows[0]!.size;
    options.log(`seeded in ${((Date.now() - started) / 1000).toFixed(0)} s; database size ${size}`);
    const marker: DatasetMarker = { size: options.size, seed: options.seed, seededAt: new Date().toISOString(), transactions: total };
    writeFileAtomic(markerFile, JSON.stringify(marker, null, 2) + '\n', 0o644);
    return marker;
  } finally {
    await db.end();
  }
}

/**
 * Seeding writes gigabytes of WAL faster than archive_command ships it; pgbackrest backup gives up
 * after 60 s waiting for its start segment. Waits until the archiver has caught up, with progress.
 */
export async function waitForArchiver(productionUrl: string, log: (line: string) => void): Promise<void> {
  const db = new Client({ connectionString: productionUrl });
  await db.connect();
  try {
    let lastLog = 0;
    for (;;) {
      const r = (await db.query<{ current: string; archived: string | null }>(
        'SELECT pg_walfile_name(pg_current_wal_lsn()) AS current, last_archived_wal AS archived FROM pg_stat_archiver')).rows[0]!;
      // WAL file names of one timeline sort in order; the current one is still being written.
      const behind = r.archived === null ? Infinity : parseInt(r.current.slice(8), 16) - parseInt(r.archived.slice(8), 16);
      if (behind <= 1) return;
      if (Date.now() - lastLog > 10_000) {
        log(`waiting for the WAL archive to catch up: ${Number.isFinite(behind) ? behind : 'all'} segments behind`);
        lastLog = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  } finally {
    await db.end();
  }
}

/** Removes every unprotected instance an earlier (perhaps killed) run left registered, so names are free and disks are not filled. */
export async function removeLeftoverInstances(platform: DatabasePlatform, platformStateDir: string, log: (line: string) => void): Promise<void> {
  const registry = new InstanceRegistry(path.join(platformStateDir, 'instances.json'));
  for (const { instanceId } of registry.all().filter((r) => !r.protected)) {
    const { deleted } = await platform.deleteInstance(instanceId).catch(() => ({ deleted: false }));
    if (deleted) log(`removed instance ${instanceId} left by an earlier run`);
  }
}
