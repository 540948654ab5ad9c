import { readIntegrityTotals } from '../activities/seed-integrity-query';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { writeFileAtomic } from '../lib/atomic-file';
import { balanceThroughCache, serviceChecks, type ServiceResources } from './app-checks';
import { parseDnsMapping, resolveInMapping } from '../activities/adapters/local/dns-mapping-file';
import { parseEnvFile } from '../activities/adapters/local/env-file';
import { endpointOfUrl } from '../lib/postgres-url';

/**
 * The demo financial application the runbooks cut over. DATABASE_URL is read from the env file once,
 * at start: a restart is what picks up a new one (as a real deployment reads its Secret). The database
 * host is resolved through the DNS mapping file when it names a record there, re-read after the TTL,
 * so a DNS switch reaches new connections without a restart. REDIS_URL (optional, from the same file) is
 * its cache and session store (seed 002's Redis); DR_APP_FILES_DIR (environment) holds its documents/,
 * configs/ and code/. Its health answer carries its own checks: connectivity, data integrity, functionality.
 *
 *   node --import tsx demo/financial-service.ts --env-file FILE --port P [--dns-file FILE] [--pid-file FILE]
 */
const { values: args } = parseArgs({
  options: {
    'env-file': { type: 'string' },
    port: { type: 'string' },
    'dns-file': { type: 'string' },
    'pid-file': { type: 'string' },
  },
});

function fail(message: string): never {
  console.error(`financial-service: ${message}`);
  process.exit(2);
}

const envFile = args['env-file'] ?? fail('--env-file is required (the file holding DATABASE_URL)');
const port = Number(args.port ?? fail('--port is required'));
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port must be 1-65535, got ${args.port}`);
const pidFile = args['pid-file'] ?? `${envFile}.${port}.pid`;
const dnsFile = args['dns-file'];

let databaseUrl: string;
let redisUrl: string | undefined;
try {
  const vars = parseEnvFile(readFileSync(envFile, 'utf8'), envFile);
  databaseUrl = vars.DATABASE_URL ?? fail(`${envFile} has no DATABASE_URL`);
  redisUrl = vars.REDIS_URL;
} catch (error) {
  fail((error as Error).message);
}
const filesDir = process.env.DR_APP_FILES_DIR;
const configured = (() => {
  try {
    return endpointOfUrl(databaseUrl);
  } catch (error) {
    return fail(`${envFile}: ${(error as Error).message}`);
  }
})();
const credentials = { user: decodeURIComponent(new URL(databaseUrl).username), password: decodeURIComponent(new URL(databaseUrl).password) };
const password = credentials.password;
const cachePassword = redisUrl ? decodeURIComponent(new URL(redisUrl).password) : '';
/** Driver messages never hold the password, but this service must not be the one that proves it wrong. */
const redact = (text: string) => [password, cachePassword].filter(Boolean).reduce((t, secret) => t.split(secret).join('***'), text);

/** The cache: one client, short timeouts, so a cache that is down makes its check fail rather than hang. */
const cache = redisUrl ? (() => {
  const url = new URL(redisUrl);
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2000, commandTimeout: 2000, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (n) => Math.min(n * 200, 2000) });
  redis.on('error', () => undefined); // reported by the cache check, not fatal
  void redis.connect().catch(() => undefined);
  return { redis, address: `${url.hostname}:${url.port || 6379}` };
})() : undefined;

const resources = (db: Pool, target: { host: string; port: number }): ServiceResources => ({ db, databaseAddress: `${target.host}:${target.port}/${configured.database}`, cache, filesDir });

interface Resolved { host: string; port: number; via: 'dns-mapping' | 'url'; expiresAt: number }
let resolved: Resolved | undefined;

function resolveDatabaseHost(): Resolved {
  if (resolved && Date.now() < resolved.expiresAt) return resolved;
  if (dnsFile && existsSync(dnsFile)) {
    const record = resolveInMapping(parseDnsMapping(readFileSync(dnsFile, 'utf8'), dnsFile), configured.host);
    if (record) return (resolved = { host: record.host, port: record.port, via: 'dns-mapping', expiresAt: Date.now() + record.ttlSeconds * 1000 });
  }
  return (resolved = { host: configured.host, port: configured.port, via: 'url', expiresAt: Date.now() + 5000 });
}

let pool: { key: string; pool: Pool } | undefined;

/** One pool per resolved address: when the name moves, new queries go to the new address. */
function currentPool(): { pool: Pool; target: Resolved } {
  const target = resolveDatabaseHost();
  const key = `${target.host}:${target.port}`;
  if (pool?.key !== key) {
    void pool?.pool.end().catch(() => undefined);
    const p = new Pool({ ...credentials, database: configured.database, host: target.host, port: target.port, max: 4, connectionTimeoutMillis: 3000, statement_timeout: 10_000, application_name: 'financial-service' });
    p.on('error', () => undefined); // an idle connection dropped by a dying server must not kill the service
    pool = { key, pool: p };
  }
  return { pool: pool.pool, target };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = redact(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}

async function health(res: http.ServerResponse): Promise<void> {
  const { pool: db, target } = currentPool();
  const identity = { host: configured.host, port: target.port, address: `${target.host}:${target.port}`, database: configured.database, resolvedThrough: target.via };
  try {
    // The seed runbook's check: connectivity, then the critical data integrity query.
    const connectivity = await db.query<{ now: Date; version: string; system_identifier: string | null }>(
      'SELECT now(), version(), (SELECT system_identifier::text FROM pg_control_system()) AS system_identifier');
    const totals = await readIntegrityTotals(db);
    const c = connectivity.rows[0]!;
    send(res, 200, {
      status: 'ok',
      database: { ...identity, systemIdentifier: c.system_identifier },
      checkedAt: c.now.toISOString(),
      serverVersion: c.version,
      ...totals,
      checks: await serviceChecks(resources(db, target), totals, c.version),
    });
  } catch (error) {
    send(res, 503, { status: 'unavailable', database: identity, error: `database ${identity.address}/${identity.database} is not answering: ${(error as Error).message}` });
  }
}

async function balance(res: http.ServerResponse, id: string): Promise<void> {
  if (!/^[1-9]\d{0,17}$/.test(id)) return send(res, 400, { error: `account id must be a positive integer, got "${id.slice(0, 40)}"` });
  try {
    const { pool: db, target } = currentPool();
    const row = await balanceThroughCache(resources(db, target), id);
    if (!row) return send(res, 404, { error: `account ${id} does not exist` });
    send(res, 200, { accountId: id, currency: row.currency, balance: row.balance });
  } catch (error) {
    send(res, 503, { error: `database is not answering: ${(error as Error).message}` });
  }
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const account = /^\/accounts\/([^/]+)\/balance$/.exec(url.pathname);
  if (req.method !== 'GET') return send(res, 405, { error: 'only GET is served' });
  if (url.pathname === '/health/database') return void health(res);
  if (account) return void balance(res, decodeURIComponent(account[1]!));
  send(res, 404, { error: `no route ${url.pathname}; try /health/database or /accounts/:id/balance` });
});

server.on('error', (error) => fail(`cannot listen on 127.0.0.1:${port}: ${error.message}`));
server.listen(port, '127.0.0.1', () => {
  writeFileAtomic(pidFile, `${process.pid}\n`, 0o644);
  console.log(`financial-service: pid ${process.pid} on http://127.0.0.1:${port}, database ${configured.host}:${configured.port}/${configured.database}${dnsFile ? ` (names resolved through ${dnsFile})` : ''}`);
});

function shutdown(signal: string): void {
  console.log(`financial-service: ${signal}, stopping`);
  server.close();
  server.closeAllConnections();
  // Leave the pid file alone if a newer instance already replaced it.
  if (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() === String(process.pid)) rmSync(pidFile, { force: true });
  cache?.redis.disconnect();
  void (pool?.pool.end() ?? Promise.resolve()).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
}
process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
