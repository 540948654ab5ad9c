import { existsSync, readFileSync } from 'node:fs';
import type { Dns, DnsSwitch } from '../../ports/dns';
import { writeFileAtomic } from '../../../lib/atomic-file';
import { applyDnsSwitch, emptyDnsMapping, formatDnsMapping, parseDnsMapping, type DnsMapping } from './dns-mapping-file';

export interface MappingFileDnsOptions {
  mappingFile: string;
  defaultTtlSeconds?: number;
  now?: () => Date;
}

/**
 * Local Dns adapter: a mapping file the demo service resolves its database host through. A switch
 * replaces the file atomically, so a resolver never reads half of it; the file keeps every switch.
 * One writer (the worker) is assumed: concurrent switches of the same file are not serialised.
 */
export function createMappingFileDns(options: MappingFileDnsOptions): Dns {
  const now = options.now ?? (() => new Date());
  const read = (): DnsMapping => (existsSync(options.mappingFile) ? parseDnsMapping(readFileSync(options.mappingFile, 'utf8'), options.mappingFile) : emptyDnsMapping());
  return {
    async currentTarget(name) {
      const record = read().records[name.toLowerCase()];
      return record && { name: name.toLowerCase(), ...record };
    },
    async switchTarget(name, target, switchOptions) {
      const { mapping, change } = applyDnsSwitch(read(), name, target, switchOptions?.ttlSeconds ?? options.defaultTtlSeconds ?? 30, now());
      if (change.changed) writeFileAtomic(options.mappingFile, formatDnsMapping(mapping), 0o644);
      return change;
    },
    async history(name): Promise<DnsSwitch[]> {
      return read().history.filter((h) => !name || h.name === name.toLowerCase());
    },
  };
}
