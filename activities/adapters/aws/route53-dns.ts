import { ChangeResourceRecordSetsCommand, GetChangeCommand, ListResourceRecordSetsCommand, type ResourceRecordSet, type Route53Client } from '@aws-sdk/client-route-53';
import { validateDnsSwitch, type Dns, type DnsRecord, type DnsSwitch } from '../../ports/dns';
import { sendMapped } from './aws-errors';
import { pollUntil, realClock, type PollClock } from './polling';

/** How the application's name is kept in the zone: a CNAME to the database host, or an alias record to it. */
export type Route53RecordStyle =
  | { type: 'CNAME' }
  /** An alias (to a load balancer in front of the database, or another record of the zone): it has no TTL of its own. */
  | { type: 'alias'; recordType: 'A' | 'AAAA' | 'CNAME'; hostedZoneId: string; evaluateTargetHealth: boolean; effectiveTtlSeconds: number };

export interface Route53DnsOptions {
  route53: Route53Client;
  hostedZoneId: string;
  /** DNS names a host, not a port: every target must be on the port the application connects to. */
  port: number;
  record: Route53RecordStyle;
  defaultTtlSeconds: number;
  waits: { pollIntervalMs: number; timeoutMs: number };
  clock?: PollClock;
  now?: () => Date;
}

/** Switches kept in the log record beside a name. */
const historyKept = 10;
/** The TXT record beside each switched name where its switches are kept (as external-dns keeps its ownership records). */
export const historyRecordName = (name: string) => `_dr-runbooks.${name}`;

const fqdn = (name: string) => `${name.toLowerCase().replace(/\.$/, '')}.`;
const bare = (name: string) => name.toLowerCase().replace(/\.$/, '');

/** One switch as a TXT value: "<switchedAt> <ttl> <previous or -> <target>", in strings of at most 255 characters. */
export function formatHistoryValue(change: DnsSwitch): string {
  const text = `${change.switchedAt} ${change.ttlSeconds} ${change.previousTarget ?? '-'} ${change.target}`;
  const chunks = text.match(/.{1,255}/g) ?? [''];
  return chunks.map((c) => `"${c}"`).join(' ');
}

export function parseHistoryValue(name: string, value: string): DnsSwitch | undefined {
  const text = [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]).join('');
  const [switchedAt, ttl, previous, target] = text.split(' ');
  if (!switchedAt || !ttl || !previous || !target || Number.isNaN(Date.parse(switchedAt))) return undefined;
  const ttlSeconds = Number(ttl);
  return { name, previousTarget: previous === '-' ? null : previous, target, ttlSeconds, switchedAt, effectiveBy: new Date(Date.parse(switchedAt) + ttlSeconds * 1000).toISOString(), changed: true };
}

/**
 * Route 53 as the Dns port: UPSERT the application's record (a CNAME, or an alias) to the new host, wait
 * until Route 53 reports the change INSYNC on its name servers, read the record back and check it. Route 53
 * keeps no history of a record, so each switch is also written, in the same change batch, to a TXT
 * record `_dr-runbooks.<name>` (the last ten switches).
 */
export function createRoute53Dns(options: Route53DnsOptions): Dns {
  const { route53, hostedZoneId } = options;
  const clock = options.clock ?? realClock;
  const now = options.now ?? (() => new Date(clock.now()));
  const recordType = options.record.type === 'CNAME' ? 'CNAME' : options.record.recordType;
  const send = <C extends object, T>(what: string, command: C, run: (c: C) => Promise<T>) => sendMapped('route53', what, command, run);

  async function recordSet(name: string, type: string): Promise<ResourceRecordSet | undefined> {
    const out = await send(`read ${name} in hosted zone ${hostedZoneId}`, new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, StartRecordName: fqdn(name), StartRecordType: type as never, MaxItems: 1 }), (c) => route53.send(c));
    const found = out.ResourceRecordSets?.[0];
    return found && fqdn(found.Name ?? '') === fqdn(name) && found.Type === type && !found.SetIdentifier ? found : undefined;
  }

  async function historyOf(name: string): Promise<DnsSwitch[]> {
    const log = await recordSet(historyRecordName(name), 'TXT');
    return (log?.ResourceRecords ?? []).map((r) => parseHistoryValue(bare(name), r.Value ?? '')).filter((s): s is DnsSwitch => s !== undefined).sort((a, b) => a.switchedAt.localeCompare(b.switchedAt));
  }

  const targetOf = (set: ResourceRecordSet): string | undefined => {
    const host = set.AliasTarget ? set.AliasTarget.DNSName : set.ResourceRecords?.[0]?.Value;
    return host ? `${bare(host)}:${options.port}` : undefined;
  };

  async function currentTarget(name: string): Promise<DnsRecord | undefined> {
    const set = await recordSet(name, recordType);
    const target = set && targetOf(set);
    if (!set || !target) return undefined;
    const last = (await historyOf(name)).at(-1);
    const ttlSeconds = set.AliasTarget ? (options.record.type === 'alias' ? options.record.effectiveTtlSeconds : 60) : set.TTL ?? options.defaultTtlSeconds;
    return { name: bare(name), target, ttlSeconds, ...(last && last.target === target ? { updatedAt: last.switchedAt } : {}) };
  }

  function desired(name: string, host: string, ttl: number): ResourceRecordSet {
    const style = options.record;
    if (style.type === 'CNAME') return { Name: fqdn(name), Type: 'CNAME', TTL: ttl, ResourceRecords: [{ Value: host }] };
    return { Name: fqdn(name), Type: style.recordType, AliasTarget: { HostedZoneId: style.hostedZoneId, DNSName: fqdn(host), EvaluateTargetHealth: style.evaluateTargetHealth } };
  }

  return {
    currentTarget,

    async switchTarget(name, target, switchOptions) {
      const ttl = options.record.type === 'alias' ? options.record.effectiveTtlSeconds : switchOptions?.ttlSeconds ?? options.defaultTtlSeconds;
      validateDnsSwitch(name, target, ttl);
      const at = target.lastIndexOf(':');
      const host = target.slice(0, at);
      if (Number(target.slice(at + 1)) !== options.port) {
        throw new Error(`target: ${target} is on port ${target.slice(at + 1)}, but a DNS record names a host only and the application connects to port ${options.port} (dns.route53.port)`);
      }
      const current = await currentTarget(name);
      const history = await historyOf(name);
      if (current && current.target === `${bare(host)}:${options.port}` && current.ttlSeconds === ttl) {
        const switchedAt = current.updatedAt ?? now().toISOString();
        return { name: bare(name), previousTarget: current.target, target: current.target, ttlSeconds: ttl, switchedAt, effectiveBy: new Date(Date.parse(switchedAt) + ttl * 1000).toISOString(), changed: false };
      }
      const switchedAt = now();
      // Clients may hold the old answer for the old TTL, so that is what bounds when the switch is seen.
      const change: DnsSwitch = {
        name: bare(name), previousTarget: current?.target ?? null, target: `${bare(host)}:${options.port}`, ttlSeconds: ttl,
        switchedAt: switchedAt.toISOString(), effectiveBy: new Date(switchedAt.getTime() + Math.max(ttl, current?.ttlSeconds ?? 0) * 1000).toISOString(), changed: true,
      };
      const log = [...history, change].slice(-historyKept);
      const submitted = await send(`switch ${name} to ${host}`, new ChangeResourceRecordSetsCommand({
        HostedZoneId: hostedZoneId,
        ChangeBatch: {
          Comment: `dr-runbooks: ${name} from ${current?.target ?? 'no record'} to ${change.target}`.slice(0, 256),
          Changes: [
            { Action: 'UPSERT', ResourceRecordSet: desired(name, host, ttl) },
            { Action: 'UPSERT', ResourceRecordSet: { Name: fqdn(historyRecordName(name)), Type: 'TXT', TTL: 300, ResourceRecords: log.map((s) => ({ Value: formatHistoryValue(s) })) } },
          ],
        },
      }), (c) => route53.send(c));
      const changeId = submitted.ChangeInfo?.Id;
      await pollUntil({
        what: `Route 53 change ${changeId} (${name} → ${host}) to be INSYNC`,
        read: async () => (await send(`read change ${changeId}`, new GetChangeCommand({ Id: changeId }), (c) => route53.send(c))).ChangeInfo?.Status,
        judge: (status) => (status === 'INSYNC' ? { done: status } : { waiting: status ?? 'PENDING' }),
        intervalMs: options.waits.pollIntervalMs,
        timeoutMs: options.waits.timeoutMs,
        clock,
      });
      const readBack = await currentTarget(name);
      if (readBack?.target !== change.target) throw new Error(`${name} reads back as ${readBack?.target ?? 'no record'} after the switch to ${change.target} was INSYNC: another change replaced it; check the hosted zone ${hostedZoneId}`);
      return change;
    },

    async history(name) {
      if (name) return historyOf(name);
      const logs: DnsSwitch[] = [];
      let start: { name?: string; type?: string } = {};
      for (;;) {
        const page = await send(`list the records of hosted zone ${hostedZoneId}`, new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, ...(start.name ? { StartRecordName: start.name, StartRecordType: start.type as never } : {}) }), (c) => route53.send(c));
        for (const set of page.ResourceRecordSets ?? []) {
          if (set.Type !== 'TXT' || !set.Name?.startsWith('_dr-runbooks.')) continue;
          const switched = bare(set.Name!).slice('_dr-runbooks.'.length);
          for (const r of set.ResourceRecords ?? []) {
            const parsed = parseHistoryValue(switched, r.Value ?? '');
            if (parsed) logs.push(parsed);
          }
        }
        if (!page.IsTruncated) break;
        start = { name: page.NextRecordName, type: page.NextRecordType };
      }
      return logs.sort((a, b) => a.switchedAt.localeCompare(b.switchedAt));
    },
  };
}
