import Redis from 'ioredis';
import type { KeyspaceCount } from '../../../ports/cache-platform';

export interface RedisTarget {
  host: string;
  port: number;
  password: string;
  username?: string;
  tls?: boolean;
  db?: number;
}

/**
 * One short-lived connection over RESP2: no reconnects, no offline queue, no ready check (we poll loading
 * ourselves, to report progress and honour cancellation), always closed.
 */
export async function withRedis<T>(target: RedisTarget, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({
    host: target.host,
    port: target.port,
    username: target.username,
    password: target.password,
    db: target.db ?? 0,
    tls: target.tls ? {} : undefined,
    // RESP2: flat replies (ZRANGE WITHSCORES as member, score, ...), the same from every server and version.
    protocol: 2,
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 5000,
  });
  redis.on('error', () => undefined); // errors reach the caller through the failed command
  try {
    await redis.connect();
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

/** INFO <section> as name -> value. */
export async function redisInfo(redis: Redis, section: string): Promise<Record<string, string>> {
  const text = (await redis.info(section)) as string;
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/** INFO keyspace: "db0:keys=12,expires=3,avg_ttl=0" per database that has keys, sorted by db. */
export async function keyspaceOf(redis: Redis): Promise<KeyspaceCount[]> {
  const info = await redisInfo(redis, 'keyspace');
  return Object.entries(info)
    .filter(([name]) => /^db\d+$/.test(name))
    .map(([name, value]) => {
      const fields = Object.fromEntries(value.split(',').map((pair) => pair.split('=') as [string, string]));
      return { db: Number(name.slice(2)), keys: Number(fields.keys), expires: Number(fields.expires) };
    })
    .sort((a, b) => a.db - b.db);
}

/** The server's clock in milliseconds (TIME), so TTL arithmetic never mixes two machines' clocks. */
export async function serverTimeMs(redis: Redis): Promise<number> {
  const [seconds, micros] = (await redis.time()) as [string | number, string | number];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
