import { Client } from 'pg';

/** One short-lived client on a database (a check, a statement), closed whatever happens; its errors never reach the process. */
export async function withDatabaseClient<T>(connection: { host: string; port: number; database: string; user: string; password: string }, fn: (db: Client) => Promise<T>, timeoutMs = 5000): Promise<T> {
  const db = new Client({ ...connection, connectionTimeoutMillis: timeoutMs, application_name: 'dr-runbooks' });
  db.on('error', () => undefined);
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end().catch(() => undefined);
  }
}
