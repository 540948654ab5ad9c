import { z } from 'zod';
import { dnsNameSchema as dnsName, dnsEndpointSchema as endpoint, dnsTtlSchema as ttlSeconds, validateDnsSwitch, type DnsSwitch } from '../../ports/dns';

/**
 * The local Dns adapter's mapping file (JSON): name → host:port with a TTL, plus every switch.
 * Unlike /etc/hosts it maps to host:port, because local clusters share 127.0.0.1 and differ by port.
 * Pure functions, shared by the adapter (writer) and the demo service (resolver).
 */

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
