import { Client } from 'pg';

export interface SteadyWriter {
  /** Stops writing and reports how many transactions were committed. */
  stop(): Promise<{ committed: number }>;
}

/**
 * Inserts one transaction every 1000/perSecond ms, each its own commit, until stopped: a live
 * database for point-in-time restores and replicas to chase. Tiny on purpose (tests only).
 */
export async function startSteadyWriter(url: string, perSecond = 20): Promise<SteadyWriter> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const accounts = (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM accounts')).rows[0]!.n;
  let running = true;
  let committed = 0;
  const loop = (async () => {
    while (running) {
      const account = 1 + (committed % accounts);
      await client.query(`INSERT INTO transactions (account_id, user_id, amount, description) SELECT id, user_id, 1.00, 'steady writer' FROM accounts WHERE id = $1`, [account]);
      committed++;
      await new Promise((resolve) => setTimeout(resolve, 1000 / perSecond));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.end();
      return { committed };
    },
  };
}
