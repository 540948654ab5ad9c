import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { DatabaseConnection } from '../database-connections';
import { runTool } from './run-tool';

/** What a short pgbench run measured. */
export interface PgbenchFigures {
  tps: number;
  latencyMs: number;
  transactions: number;
  clients: number;
  seconds: number;
}

/** pgbench of Debian's postgresql-15 (DR_PGBENCH, or DR_PG_BIN's). */
export const pgbenchBinary = () => process.env.DR_PGBENCH ?? path.join(process.env.DR_PG_BIN ?? '/usr/lib/postgresql/15/bin', 'pgbench');

// The application's own reads, never a write: safe on production at backup time and on a recovered copy.
const script = `\\set aid random(1, :maxaid)
SELECT balance FROM accounts WHERE id = :aid;
SELECT count(*), sum(amount) FROM transactions WHERE account_id = :aid;
`;

export function parsePgbench(output: string): Omit<PgbenchFigures, 'clients' | 'seconds'> {
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(output)?.[1];
  const latency = /latency average = ([\d.]+) ms/.exec(output)?.[1];
  const done = /number of transactions actually processed: (\d+)/.exec(output)?.[1];
  if (!tps || !latency || !done) throw new Error(`pgbench printed no tps/latency line: ${output.trim().split('\n').slice(-3).join(' | ')}`);
  return { tps: Number(tps), latencyMs: Number(latency), transactions: Number(done) };
}

/** A short read-only pgbench of the application's balance lookup, as the seed's performance test runs pgbench. */
export async function runPgbench(target: DatabaseConnection, options: { seconds: number; clients: number; signal?: AbortSignal }): Promise<PgbenchFigures> {
  const password = await target.password();
  const client = new Client({ host: target.host, port: target.port, database: target.database, user: target.user, password, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  let maxAid: number;
  try {
    await client.connect();
    maxAid = Number((await client.query<{ m: string | null }>('SELECT max(id)::text AS m FROM accounts')).rows[0]?.m ?? 0);
  } finally {
    await client.end().catch(() => undefined);
  }
  if (!maxAid) throw new Error(`${target.name} has no accounts to read`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-pgbench-'));
  try {
    writeFileSync(path.join(dir, 'balance-lookup.sql'), script);
    const output = await runTool(pgbenchBinary(), [
      '-n', '-f', path.join(dir, 'balance-lookup.sql'), '-D', `maxaid=${maxAid}`, '-T', String(options.seconds), '-c', String(options.clients), '-j', '1',
      '-h', target.host, '-p', String(target.port), '-U', target.user, target.database,
    ], { env: { PGPASSWORD: password, PGCONNECT_TIMEOUT: '5', PGAPPNAME: 'dr-runbooks-pgbench' }, timeoutMs: (options.seconds + 30) * 1000, signal: options.signal });
    return { ...parsePgbench(output), clients: options.clients, seconds: options.seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
