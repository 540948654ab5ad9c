import { Client } from 'pg';

export interface SteadyWriterOptions {
  connectionString: string;
  ratePerSecond: number;
  /** Written into each transaction's description, so a test can tell these rows from the seed's. */
  label?: string;
  /** Called on each failed attempt (the database away, a restart); the writer keeps trying. */
  onError?: (error: Error) => void;
}

export interface SteadyWriterStats {
  inserted: number;
  failures: number;
  /** id of the newest transaction whose COMMIT was acknowledged; null before the first. */
  lastId: string | null;
  /** Client clock right after that COMMIT was acknowledged: the row is durable at or before it. */
  lastCommittedAt: Date | null;
  /** That row's created_at (server clock, inside the transaction). */
  lastCreatedAt: Date | null;
}

export interface SteadyWriter {
  stats(): SteadyWriterStats;
  /** Stops after the in-flight insert, closes the connection and returns the final stats. */
  stop(): Promise<SteadyWriterStats>;
}

/**
 * Inserts transactions at a steady rate, each with its account's balance update in the same
 * database transaction (so balances stay equal to the ledger), and remembers the newest commit.
 * It never gives up: when the database goes away it counts the failure, reconnects on the next tick
 * and carries on, so it can run straight through a failover or a PITR drill.
 */
export function startSteadyWriter(options: SteadyWriterOptions): SteadyWriter {
  if (!(options.ratePerSecond > 0 && options.ratePerSecond <= 10_000)) throw new Error(`ratePerSecond must be between 0 and 10000, got ${options.ratePerSecond}`);
  const interval = 1000 / options.ratePerSecond;
  const label = options.label ?? 'steady-writer';
  // Each write's reference (its idempotency key) is unique to this writer and its n-th write.
  const writerId = `${process.pid}-${Date.now().toString(36)}`;
  const stats: SteadyWriterStats = { inserted: 0, failures: 0, lastId: null, lastCommittedAt: null, lastCreatedAt: null };
  let client: Client | undefined;
  let accounts: string[] = [];
  let stopping = false;
  let wake: (() => void) | undefined;

  async function connection(): Promise<Client> {
    if (client) return client;
    const c = new Client({ connectionString: options.connectionString, connectionTimeoutMillis: 3000, application_name: 'steady-writer' });
    c.on('error', () => undefined); // a server going away is reported by the next query
    try {
      await c.connect();
      if (!accounts.length) accounts = (await c.query<{ id: string }>('SELECT id::text FROM accounts ORDER BY id LIMIT 1000')).rows.map((r) => r.id);
    } catch (error) {
      await c.end().catch(() => undefined);
      throw error;
    }
    if (!accounts.length) {
      await c.end().catch(() => undefined);
      throw new Error('the database has no accounts to write to: seed it first');
    }
    return (client = c);
  }

  async function insertOne(n: number): Promise<void> {
    const c = await connection();
    const account = accounts[n % accounts.length]!;
    const amount = (((n * 7919) % 20_000) - 10_000) / 100;
    try {
      await c.query('BEGIN');
      const row = (await c.query<{ id: string; created_at: Date }>(
        `INSERT INTO transactions (account_id, user_id, amount, currency, description, reference)
         SELECT id, user_id, $2, currency, $3, $4 FROM accounts WHERE id = $1 RETURNING id::text, created_at`, [account, amount, label, `${label}-${writerId}-${n}`])).rows[0];
      if (!row) throw new Error(`account ${account} disappeared`);
      await c.query('UPDATE accounts SET balance = balance + $2 WHERE id = $1', [account, amount]);
      await c.query('COMMIT');
      stats.inserted++;
      stats.lastId = row.id;
      stats.lastCreatedAt = row.created_at;
      stats.lastCommittedAt = new Date();
    } catch (error) {
      client = undefined;
      await c.end().catch(() => undefined);
      throw error;
    }
  }

  const loop = (async () => {
    let next = Date.now();
    for (let n = 0; !stopping; n++) {
      try {
        await insertOne(n);
      } catch (error) {
        stats.failures++;
        options.onError?.(error as Error);
      }
      next += interval;
      // Behind schedule (a slow or absent database): resume the pace from now instead of bursting.
      if (next < Date.now() - interval) next = Date.now();
      const wait = next - Date.now();
      if (wait > 0 && !stopping) await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, wait); });
    }
  })();

  return {
    stats: () => ({ ...stats }),
    async stop() {
      stopping = true;
      wake?.();
      await loop;
      await client?.end().catch(() => undefined);
      client = undefined;
      return { ...stats };
    },
  };
}

if (require.main === module) {
  // steady-writer.ts --url-env DB_URL --rate 50 [--seconds 60]: the URL comes from the environment, never argv.
  void (async () => {
    const { parseArgs } = await import('node:util');
    const { values } = parseArgs({ options: { 'url-env': { type: 'string' }, rate: { type: 'string', default: '10' }, seconds: { type: 'string' } } });
    const url = values['url-env'] && process.env[values['url-env']];
    if (!url) {
      console.error('steady-writer: --url-env must name a set environment variable holding the database URL');
      process.exit(2);
    }
    const writer = startSteadyWriter({ connectionString: url, ratePerSecond: Number(values.rate), onError: (e) => console.error(`steady-writer: write failed, retrying: ${e.message}`) });
    const report = setInterval(() => console.log(JSON.stringify(writer.stats())), 1000);
    const finish = async () => {
      clearInterval(report);
      console.log(JSON.stringify({ final: await writer.stop() }));
      process.exit(0);
    };
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
    if (values.seconds) setTimeout(finish, Number(values.seconds) * 1000);
  })();
}
