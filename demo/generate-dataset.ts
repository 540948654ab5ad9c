import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { benchDataset, seedFinancialDataset, smallDataset } from './financial-dataset';

/**
 * Seeds the financial dataset into a database whose URL is in an environment variable (so the
 * password is never on a command line):  DB_URL=postgresql://… generate-dataset.ts --url-env DB_URL --size small --seed 1
 */
const { values } = parseArgs({ options: { 'url-env': { type: 'string' }, size: { type: 'string', default: 'small' }, seed: { type: 'string', default: '1' } } });

async function main(): Promise<void> {
  const variable = values['url-env'];
  if (!variable) throw new Error('--url-env is required: the name of the environment variable holding the database URL');
  const url = process.env[variable];
  if (!url) throw new Error(`--url-env: environment variable ${variable} is not set`);
  const size = values.size === 'small' ? smallDataset : values.size === 'bench' ? benchDataset : undefined;
  if (!size) throw new Error(`--size must be small or bench, got "${values.size}"`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got "${values.seed}"`);
  const db = new Client({ connectionString: url });
  await db.connect();
  const started = Date.now();
  try {
    await seedFinancialDataset(db, size, seed, {
      onProgress: (p) => console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(7)} s  ${p.table.padEnd(14)} ${p.done}/${p.total}`),
    });
  } finally {
    await db.end();
  }
  console.log(`seeded ${values.size} dataset (seed ${seed}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error: Error) => {
  console.error(`generate-dataset: ${error.message}`);
  process.exit(1);
});
