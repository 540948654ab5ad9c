import type { Pool, PoolClient } from 'pg';

/**
 * Runs `read` in a read-only transaction with a statement timeout: what the worker measures between
 * runbooks (the monitoring, the readiness check) can never write, nor hold a database for long.
 */
export async function readOnly<T>(pool: Pool, timeoutMs: number, read: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(`SELECT set_config('statement_timeout', $1, true)`, [String(timeoutMs)]);
    const result = await read(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
