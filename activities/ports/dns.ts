import { z } from 'zod';

/**
 * Dns port: the name the application uses for its database, and where it points. Adapters: local
 * (a mapping file the demo service resolves through) and Route 53. A switch is not seen by every
 * client at once: resolvers may keep the old answer for the record's TTL, so a switch reports
 * `effectiveBy` (switch time + TTL) and callers wait for health on the new target, not for the switch.
 */
export interface DnsRecord {
  name: string;
  /** host:port the name resolves to. */
  target: string;
  ttlSeconds: number;
  /** When the record last changed; absent when the DNS service keeps no such time (a Route 53 record no switch of ours has written). */
  updatedAt?: string;
}

export interface DnsSwitch {
  name: string;
  previousTarget: string | null;
  target: string;
  ttlSeconds: number;
  /** ISO time of the switch; for a no-op switch, when the record last changed. */
  switchedAt: string;
  /** ISO time after which every client that honours the TTL resolves to `target`. */
  effectiveBy: string;
  /** false when the name already pointed at the target (a retried switch). */
  changed: boolean;
}

export interface Dns {
  /** undefined when the name has no record. */
  currentTarget(name: string): Promise<DnsRecord | undefined>;
  switchTarget(name: string, target: string, options?: { ttlSeconds?: number }): Promise<DnsSwitch>;
  /** Every switch, oldest first (of one name when given). */
  history(name?: string): Promise<DnsSwitch[]>;
}

export const dnsNameSchema = z.string().regex(/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i, 'must be a DNS name like db.mita.internal');
export const dnsEndpointSchema = z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:5433').refine((s) => { const p = Number(s.split(':')[1]); return p >= 1 && p <= 65535; }, 'port must be 1-65535');
export const dnsTtlSchema = z.number().int().min(0).max(86_400);

/** Throws a message naming the field when a name or target is malformed. */
export function validateDnsSwitch(name: string, target: string, ttl: number): void {
  const problems = [
    ...(dnsNameSchema.safeParse(name).error?.issues.map((i) => `name: ${i.message}`) ?? []),
    ...(dnsEndpointSchema.safeParse(target).error?.issues.map((i) => `target: ${i.message}`) ?? []),
    ...(dnsTtlSchema.safeParse(ttl).error?.issues.map((i) => `ttlSeconds: ${i.message}`) ?? []),
  ];
  if (problems.length) throw new Error(problems.join('; '));
}

