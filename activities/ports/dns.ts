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
  updatedAt: string;
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
