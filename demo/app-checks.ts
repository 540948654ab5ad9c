import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import type { IntegrityTotals } from '../activities/seed-integrity-query';

/** One of the service's own checks, in the shape the AppRuntime port reports (AppHealthCheck). */
export interface ServiceCheck {
  name: string;
  passed: boolean;
  detail: string;
  figures?: Record<string, string | number>;
}

/** What the service runs on: its database pool, its cache (when REDIS_URL is set), its files. */
export interface ServiceResources {
  db: Pick<Pool, 'query'>;
  databaseAddress: string;
  cache?: { redis: Redis; address: string };
  /** The application's files (seed 002): documents/, configs/, code/ under one directory. */
  filesDir?: string;
}

const errorOf = (error: unknown) => (error as Error).message.split('\n')[0]!;

/** Every file under a directory (relative paths), symlinks not followed. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(d, entry.name), r);
      else if (entry.isFile()) out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

/**
 * A balance read through the cache, as the service's balance route does: the cache first, the database
 * behind it (a cache that does not answer is read around, and `strict` says so instead).
 */
export async function balanceThroughCache(r: ServiceResources, accountId: string, strict = false): Promise<{ balance: string; currency: string; from: 'cache' | 'database' } | undefined> {
  const key = `balance:${accountId}`;
  const tolerate = async <T>(op: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await op();
    } catch (error) {
      if (strict) throw error;
      return undefined;
    }
  };
  if (r.cache) {
    const cached = await tolerate(() => r.cache!.redis.get(key));
    if (cached) return { ...(JSON.parse(cached) as { balance: string; currency: string }), from: 'cache' };
  }
  const row = (await r.db.query<{ currency: string; balance: string }>('SELECT currency, balance::text FROM accounts WHERE id = $1', [accountId])).rows[0];
  if (!row) return undefined;
  if (r.cache) await tolerate(() => r.cache!.redis.set(key, JSON.stringify(row), 'EX', 300));
  return { ...row, from: 'database' };
}

async function cacheConnectivity(r: ServiceResources): Promise<ServiceCheck | undefined> {
  if (!r.cache) return undefined;
  try {
    const pong = await r.cache.redis.ping();
    const keys = await r.cache.redis.dbsize();
    return { name: 'connectivity: cache', passed: pong === 'PONG', detail: `cache ${r.cache.address} answers PING (${keys} keys)`, figures: { address: r.cache.address, keys } };
  } catch (error) {
    return { name: 'connectivity: cache', passed: false, detail: `cache ${r.cache.address} does not answer: ${errorOf(error)}`, figures: { address: r.cache.address } };
  }
}

/** One account's balance against its ledger: a spot check cheap enough for every health poll. */
async function dataIntegrity(r: ServiceResources, totals: IntegrityTotals): Promise<ServiceCheck> {
  const row = (await r.db.query<{ id: string; balance: string; ledger: string }>(
    'SELECT a.id::text, a.balance::text, coalesce((SELECT sum(amount) FROM transactions t WHERE t.account_id = a.id), 0)::numeric(14,2)::text AS ledger FROM accounts a ORDER BY a.id LIMIT 1')).rows[0];
  const base = `users ${totals.userCount}, transactions ${totals.transactionCount}, total ${totals.totalAmount}`;
  if (!row) return { name: 'data integrity', passed: totals.userCount === 0, detail: `${base}; no account to check` };
  const passed = row.balance === row.ledger;
  return { name: 'data integrity', passed, detail: `${base}; account ${row.id}'s balance ${row.balance} ${passed ? 'matches' : 'does NOT match'} its ledger ${row.ledger}`, figures: { ...totals } };
}

/** The application's features: a balance read through its cache, a session written and read back, its documents read and its configs parsed. */
async function functionality(r: ServiceResources): Promise<ServiceCheck> {
  const parts: string[] = [];
  const failures: string[] = [];
  const figures: Record<string, number> = {};
  try {
    const first = (await r.db.query<{ id: string }>('SELECT id::text FROM accounts ORDER BY id LIMIT 1')).rows[0];
    if (first) {
      const a = await balanceThroughCache(r, first.id, true);
      const b = await balanceThroughCache(r, first.id, true);
      if (a?.balance !== b?.balance) failures.push(`account ${first.id}'s balance reads ${a?.balance} then ${b?.balance}`);
      else parts.push(`account ${first.id}'s balance read${r.cache ? ` (second read from the ${b?.from})` : ''}`);
    }
  } catch (error) {
    failures.push(`balance lookup failed: ${errorOf(error)}`);
  }
  if (r.cache) {
    try {
      const token = `health:session-check:${process.pid}`;
      await r.cache.redis.set(token, 'ok', 'EX', 30);
      if ((await r.cache.redis.get(token)) !== 'ok') failures.push('a session written to the cache did not read back');
      else parts.push('a session written and read back');
    } catch (error) {
      failures.push(`session write failed: ${errorOf(error)}`);
    }
  }
  if (r.filesDir) {
    for (const [kind, check] of [['documents', checkDocuments], ['configs', checkConfigs], ['code', checkCode]] as const) {
      const dir = path.join(r.filesDir, kind);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) { failures.push(`${kind}/ is missing`); continue; }
      try {
        const n = check(dir);
        figures[kind] = n;
        parts.push(`${n} ${kind} ${kind === 'configs' ? 'parse' : 'readable'}`);
      } catch (error) {
        failures.push(`${kind}: ${errorOf(error)}`);
      }
    }
  }
  return { name: 'functionality', passed: failures.length === 0, detail: failures.length ? `FAILED: ${failures.join('; ')}` : parts.join('; ') || 'nothing to exercise', figures };
}

function checkDocuments(dir: string): number {
  const files = filesUnder(dir);
  for (const f of files) readFileSync(path.join(dir, f));
  return files.length;
}

function checkConfigs(dir: string): number {
  const files = filesUnder(dir).filter((f) => f.endsWith('.json'));
  for (const f of files) {
    try {
      JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    } catch (error) {
      throw new Error(`${f} does not parse: ${errorOf(error)}`);
    }
  }
  return files.length;
}

function checkCode(dir: string): number {
  const files = filesUnder(dir);
  if (files.length === 0) throw new Error('no code');
  return files.length;
}

/** Seed 002's recovery validation as the application itself answers it: connectivity, data integrity, functionality. */
export async function serviceChecks(r: ServiceResources, totals: IntegrityTotals, serverVersion: string): Promise<ServiceCheck[]> {
  const checks: ServiceCheck[] = [{ name: 'connectivity: database', passed: true, detail: `database ${r.databaseAddress} answers (${serverVersion.split(' on ')[0]})`, figures: { address: r.databaseAddress } }];
  const cache = await cacheConnectivity(r);
  if (cache) checks.push(cache);
  checks.push(await dataIntegrity(r, totals).catch((error): ServiceCheck => ({ name: 'data integrity', passed: false, detail: errorOf(error) })));
  checks.push(await functionality(r));
  return checks;
}
