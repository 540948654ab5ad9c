import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import type { CacheConnection } from '../ports/cache-platform';
import { runTool } from './run-tool';

/** What a short redis-benchmark run measured, per command. */
export interface RedisBenchmarkFigures {
  requests: number;
  clients: number;
  commands: Array<{ command: string; rps: number; p50Ms: number; p99Ms: number }>;
}

export const redisBenchmarkBinary = () => process.env.DR_REDIS_BENCHMARK ?? 'redis-benchmark';

/** redis-benchmark --csv: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms". */
export function parseRedisBenchmarkCsv(csv: string): RedisBenchmarkFigures['commands'] {
  const rows = csv.trim().split('\n').map((line) => line.split(',').map((cell) => cell.replace(/^"|"$/g, '')));
  const header = rows.shift() ?? [];
  const col = (name: string) => header.indexOf(name);
  if (col('rps') < 0) throw new Error(`redis-benchmark printed no CSV header: ${csv.slice(0, 200)}`);
  return rows.filter((r) => r.length === header.length).map((r) => ({ command: r[col('test')]!, rps: Number(r[col('rps')]), p50Ms: Number(r[col('p50_latency_ms')]), p99Ms: Number(r[col('p99_latency_ms')]) }));
}

/**
 * A short read-only redis-benchmark (GET and PING), as the seed's performance test runs it. redis-benchmark
 * takes a password only on its command line, so it signs in as a user made for the run: it may only GET
 * the benchmark's own key and PING, and is removed afterwards (the instance's password is never in argv).
 */
export async function runRedisBenchmark(target: CacheConnection, options: { requests: number; clients: number; signal?: AbortSignal }): Promise<RedisBenchmarkFigures> {
  const admin = new Redis({ host: target.host, port: target.port, username: target.username, password: target.password, tls: target.tls ? {} : undefined, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
  admin.on('error', () => undefined);
  const user = `dr-bench-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  try {
    await admin.connect();
    await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, 'resetkeys', '~key:*', 'resetchannels', '-@all', '+get', '+ping', '+config|get');
    const csv = await runTool(redisBenchmarkBinary(), [
      '-h', target.host, '-p', String(target.port), '--user', user, '-a', password, ...(target.tls ? ['--tls'] : []),
      '-n', String(options.requests), '-c', String(options.clients), '-t', 'get,ping_mbulk', '--csv',
    ], { timeoutMs: 60_000, signal: options.signal });
    return { requests: options.requests, clients: options.clients, commands: parseRedisBenchmarkCsv(csv) };
  } finally {
    await admin.call('ACL', 'DELUSER', user).catch(() => undefined);
    admin.disconnect();
  }
}
