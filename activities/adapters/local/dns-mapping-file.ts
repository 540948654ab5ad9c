import { z } from 'zod';
import type { DnsSwitch } from '../../ports/dns';

/**
 * The local Dns adapter's mapping file (JSON): name → host:port with a TTL, plus every switch.
 * Unlike /etc/hosts it maps to host:port, because local clusters share 127.0.0.1 and differ by port.
 * Pure functions, shared by the adapter (writer) and the demo service (resolver).
 */
const dnsName = z.string().regex(/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i, 'must be a DNS name like db.mita.internal');
const endpoint = z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:5433').refine((s) => { const p = Number(s.split(':')[1]); return p >= 1 && p <= 65535; }, 'port must be 1-65535');
const ttlSeconds = z.number().int().min(0).max(86_400);

const mappingSchema = z.strictObject({
  records: z.record(dnsName, z.strictObject({ target: endpoint, ttlSeconds, updatedAt: z.string() })),
  history: z.array(z.strictObject({
    name: dnsName, previousTarget: endpoint.nullable(), target: endpoint, ttlSeconds,
    switchedAt: z.string(), effectiveBy: z.string(), changed: z.boolean(),
  })),
});
export type DnsMapping = z.infer<typeof mappingSchema>;

export const emptyDnsMapping = (): DnsMapping => ({ records: {}, history: [] });

export function parseDnsMapping(text: string, source = 'DNS mapping file'): DnsMapping {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = mappingSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${source} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export const formatDnsMapping = (mapping: DnsMapping) => JSON.stringify(mapping, null, 2) + '\n';

/** Throws a message naming the field when a name or target is malformed. */
export function validateDnsSwitch(name: string, target: string, ttl: number): void {
  const problems = [
    ...(dnsName.safeParse(name).error?.issues.map((i) => `name: ${i.message}`) ?? []),
    ...(endpoint.safeParse(target).error?.issues.map((i) => `target: ${i.message}`) ?? []),
    ...(ttlSeconds.safeParse(ttl).error?.issues.map((i) => `ttlSeconds: ${i.message}`) ?? []),
  ];
  if (problems.length) throw new Error(problems.join('; '));
}

/** Returns the mapping with the switch applied and recorded; a switch to the current target changes nothing. */
export function applyDnsSwitch(mapping: DnsMapping, name: string, target: string, ttl: number, now: Date): { mapping: DnsMapping; change: DnsSwitch } {
  validateDnsSwitch(name, target, ttl);
  const key = name.toLowerCase();
  const current = mapping.records[key];
  if (current && current.target === target && current.ttlSeconds === ttl) {
    const effectiveBy = new Date(Date.parse(current.updatedAt) + ttl * 1000).toISOString();
    return { mapping, change: { name: key, previousTarget: target, target, ttlSeconds: ttl, switchedAt: current.updatedAt, effectiveBy, changed: false } };
  }
  const switchedAt = now.toISOString();
  // Clients may hold the old answer for the old TTL, so that is what bounds when the switch is seen.
  const effectiveBy = new Date(now.getTime() + Math.max(ttl, current?.ttlSeconds ?? 0) * 1000).toISOString();
  const change: DnsSwitch = { name: key, previousTarget: current?.target ?? null, target, ttlSeconds: ttl, switchedAt, effectiveBy, changed: true };
  return {
    mapping: { records: { ...mapping.records, [key]: { target, ttlSeconds: ttl, updatedAt: switchedAt } }, history: [...mapping.history, change] },
    change,
  };
}

/** Where a client connects for `host`: the mapped host:port when the name is in the mapping, else undefined. */
export function resolveInMapping(mapping: DnsMapping, host: string): { host: string; port: number; ttlSeconds: number } | undefined {
  const record = mapping.records[host.toLowerCase()];
  if (!record) return undefined;
  const at = record.target.lastIndexOf(':');
  return { host: record.target.slice(0, at), port: Number(record.target.slice(at + 1)), ttlSeconds: record.ttlSeconds };
}
