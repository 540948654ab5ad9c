import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import type { CacheValueType } from '../../../ports/cache-platform';

/**
 * Redis values of the five basic types, read binary-safe, in a canonical form: hash fields and set
 * members sorted, list items in order, sorted-set members in score order with their scores as Redis
 * prints them. Used to digest sampled keys and to export sessions; nothing here depends on where the
 * server runs, so the ElastiCache adapter uses it as it is.
 */

export const valueTypes: readonly CacheValueType[] = ['string', 'hash', 'list', 'set', 'zset'];

export type CanonicalValue =
  | { type: 'string'; value: Buffer }
  | { type: 'hash'; value: Array<[Buffer, Buffer]> }
  | { type: 'list'; value: Buffer[] }
  | { type: 'set'; value: Buffer[] }
  | { type: 'zset'; value: Array<[Buffer, string]> };

const pairs = <T>(flat: T[]): Array<[T, T]> => {
  const out: Array<[T, T]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
};

/** Reads a key's value; undefined when it is gone or has another type than expected. */
export async function readValue(redis: Redis, key: Buffer, type: CacheValueType): Promise<CanonicalValue | undefined> {
  try {
    switch (type) {
      case 'string': {
        const value = await redis.getBuffer(key);
        return value === null ? undefined : { type, value };
      }
      case 'hash': {
        const flat = (await redis.callBuffer('HGETALL', key)) as Buffer[];
        return flat.length ? { type, value: pairs(flat).sort(([a], [b]) => Buffer.compare(a, b)) } : undefined;
      }
      case 'list': {
        const items = (await redis.callBuffer('LRANGE', key, '0', '-1')) as Buffer[];
        return items.length ? { type, value: items } : undefined;
      }
      case 'set': {
        const members = (await redis.callBuffer('SMEMBERS', key)) as Buffer[];
        return members.length ? { type, value: members.sort(Buffer.compare) } : undefined;
      }
      case 'zset': {
        const flat = (await redis.callBuffer('ZRANGE', key, '0', '-1', 'WITHSCORES')) as Buffer[];
        return flat.length ? { type, value: pairs(flat).map(([member, score]) => [member, score.toString('ascii')]) } : undefined;
      }
    }
  } catch (error) {
    if (/WRONGTYPE/.test((error as Error).message)) return undefined;
    throw error;
  }
}

/** The key's type as Redis names it ("none" when it does not exist). */
export async function typeOf(redis: Redis, key: Buffer): Promise<string> {
  return (await redis.type(key)) as string;
}

/** Number of elements (bytes for a string): keeps huge keys out of samples. */
export async function sizeOf(redis: Redis, key: Buffer, type: CacheValueType): Promise<number> {
  const command = { string: 'STRLEN', hash: 'HLEN', list: 'LLEN', set: 'SCARD', zset: 'ZCARD' }[type];
  return Number(await redis.call(command, key));
}

/** Absolute expiry in ms (PEXPIRETIME, Redis 7), undefined for a key without a TTL. */
export async function expiryOf(redis: Redis, key: Buffer): Promise<number | undefined> {
  const at = Number(await redis.call('PEXPIRETIME', key));
  return at > 0 ? at : undefined;
}

/** sha256 over the type and a length-prefixed encoding of the canonical value. */
export function digestOf(value: CanonicalValue): string {
  const hash = createHash('sha256');
  const part = (data: Buffer | string) => {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length).update(bytes);
  };
  part(value.type);
  if (value.type === 'string') part(value.value);
  else if (value.type === 'list' || value.type === 'set') value.value.forEach(part);
  else value.value.forEach(([a, b]) => { part(a); part(b); });
  return hash.digest('hex');
}

/** Buffers that are valid UTF-8 stay readable in JSON; the others are base64. */
export const isUtf8 = (data: Buffer) => Buffer.from(data.toString('utf8'), 'utf8').equals(data);

/** One key of the seed's session JSON: `{type, value, ttl}`, plus the absolute expiry we restore by. */
export interface SessionEntry {
  type: CacheValueType;
  /** string: the value; hash: field -> value; list and set: items; zset: [member, score] pairs. */
  value: string | Record<string, string> | string[] | Array<[string, string]>;
  /** Seconds left at export, -1 without a TTL (the seed's meaning of `ttl`). */
  ttl: number;
  /** Absolute expiry, ISO 8601 with milliseconds; what a restore keeps. */
  expiresAt?: string;
  /** When the key or any part of the value is not UTF-8: then the map key and every string here are base64. */
  encoding?: 'base64';
}

export function toSessionEntry(value: CanonicalValue, ttlMs: number | undefined, expiresAtMs: number | undefined, binary: boolean): SessionEntry {
  const text = (data: Buffer) => data.toString(binary ? 'base64' : 'utf8');
  let json: SessionEntry['value'];
  switch (value.type) {
    case 'string': json = text(value.value); break;
    case 'hash': json = Object.fromEntries(value.value.map(([field, v]) => [text(field), text(v)])); break;
    case 'list': case 'set': json = value.value.map(text); break;
    case 'zset': json = value.value.map(([member, score]): [string, string] => [text(member), score]); break;
  }
  return {
    type: value.type,
    value: json,
    ttl: ttlMs === undefined ? -1 : Math.max(1, Math.ceil(ttlMs / 1000)),
    ...(expiresAtMs === undefined ? {} : { expiresAt: new Date(expiresAtMs).toISOString() }),
    ...(binary ? { encoding: 'base64' as const } : {}),
  };
}

/** Whether a canonical value (and its key) can be exported as plain UTF-8 text. */
export function isTextual(key: Buffer, value: CanonicalValue): boolean {
  if (!isUtf8(key)) return false;
  switch (value.type) {
    case 'string': return isUtf8(value.value);
    case 'hash': return value.value.every(([f, v]) => isUtf8(f) && isUtf8(v));
    case 'list': case 'set': return value.value.every(isUtf8);
    case 'zset': return value.value.every(([m]) => isUtf8(m));
  }
}

/** Back from JSON to a canonical value (for the digest of what a restore wrote). */
export function fromSessionEntry(entry: SessionEntry): CanonicalValue {
  const bytes = (s: string) => Buffer.from(s, entry.encoding === 'base64' ? 'base64' : 'utf8');
  switch (entry.type) {
    case 'string': return { type: 'string', value: bytes(entry.value as string) };
    case 'hash': return { type: 'hash', value: Object.entries(entry.value as Record<string, string>).map(([f, v]) => [bytes(f), bytes(v)] as [Buffer, Buffer]).sort(([a], [b]) => Buffer.compare(a, b)) };
    case 'list': return { type: 'list', value: (entry.value as string[]).map(bytes) };
    case 'set': return { type: 'set', value: (entry.value as string[]).map(bytes).sort(Buffer.compare) };
    case 'zset': return { type: 'zset', value: (entry.value as Array<[string, string]>).map(([m, s]) => [bytes(m), s] as [Buffer, string]) };
    default: throw new Error(`session entry type ${JSON.stringify((entry as { type: unknown }).type)} is not one of ${valueTypes.join(', ')}`);
  }
}

/**
 * Writes one key atomically on the server (one script): refuses an expiry already past by the
 * server's own clock (-1), keeps an existing key unless told to replace it (0), else writes the value
 * and its absolute expiry (1 new, 2 replaced). Elements go in chunks of 1000 arguments (Lua's unpack limit).
 */
const writeScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[2] ~= '' and tonumber(ARGV[2]) <= now then return -1 end
local existed = redis.call('EXISTS', KEYS[1]) == 1
if existed then
  if ARGV[1] ~= 'replace' then return 0 end
  redis.call('DEL', KEYS[1])
end
local kind = ARGV[3]
if kind == 'string' then
  redis.call('SET', KEYS[1], ARGV[4])
else
  local command = ({hash = 'HSET', list = 'RPUSH', set = 'SADD', zset = 'ZADD'})[kind]
  for i = 4, #ARGV, 1000 do
    redis.call(command, KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
end
if ARGV[2] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
if existed then return 2 end
return 1
`;

export type WriteOutcome = 'expired' | 'kept-existing' | 'written' | 'replaced';

export async function writeValue(redis: Redis, key: Buffer, value: CanonicalValue, expiresAtMs: number | undefined, existing: 'keep' | 'replace'): Promise<WriteOutcome> {
  const args: Array<Buffer | string> = [existing, expiresAtMs === undefined ? '' : String(expiresAtMs), value.type];
  switch (value.type) {
    case 'string': args.push(value.value); break;
    case 'hash': value.value.forEach(([f, v]) => args.push(f, v)); break;
    case 'list': case 'set': args.push(...value.value); break;
    case 'zset': value.value.forEach(([member, score]) => args.push(score, member)); break;
  }
  const outcome = Number(await redis.eval(writeScript, 1, key, ...args));
  return outcome === -1 ? 'expired' : outcome === 0 ? 'kept-existing' : outcome === 2 ? 'replaced' : 'written';
}
