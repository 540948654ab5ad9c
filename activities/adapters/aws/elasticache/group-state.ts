import type { ReplicationGroup, Snapshot } from '@aws-sdk/client-elasticache';
import type { CacheEndpoint, CacheInstanceDescription } from '../../../ports/cache-platform';

// What ElastiCache's answers mean for the port, as pure functions: moto answers every group "available"
// at once, so the waits are tested here over sequences of states.

/** One reading of a wait: done (with its value), failed for good, or still on its way (ElastiCache's own word). */
export type WaitVerdict<T> = { done: T } | { failed: string } | { waiting: string };

/** The port's status for a replication group's Status. */
export function portStatusOf(status: string | undefined): CacheInstanceDescription['status'] {
  if (status === 'deleting') return 'deleting';
  if (status === 'available' || status === 'modifying' || status === 'snapshotting') return 'available';
  return 'creating';
}

/** A group being built: available is done; create-failed will not change by waiting. */
export function judgeGroup(group: Pick<ReplicationGroup, 'Status'> | undefined): WaitVerdict<true> {
  const status = group?.Status;
  if (status === 'available') return { done: true };
  if (status === 'create-failed') return { failed: 'ElastiCache says create-failed (see its events for the group); the half-built group is deleted' };
  if (status === 'deleting' || status === undefined) return { failed: status === undefined ? 'the group is gone' : 'the group is being deleted' };
  return { waiting: status };
}

/** A snapshot being taken: available is done; failed will not change. */
export function judgeSnapshot(snapshot: Pick<Snapshot, 'SnapshotStatus'> | undefined): WaitVerdict<true> {
  const status = snapshot?.SnapshotStatus;
  if (status === 'available') return { done: true };
  if (status === 'failed' || status === 'deleting' || status === undefined) return { failed: `the snapshot is ${status ?? 'gone'}` };
  return { waiting: status };
}

/** Where a group's primary answers: the primary endpoint (cluster mode disabled) or the configuration endpoint. */
export function endpointOf(group: ReplicationGroup): CacheEndpoint | undefined {
  const primary = group.NodeGroups?.[0]?.PrimaryEndpoint ?? group.ConfigurationEndpoint;
  if (!primary?.Address || !primary.Port) return undefined;
  return { host: primary.Address, port: primary.Port, tls: group.TransitEncryptionEnabled === true };
}

/** "50 MB" as ElastiCache reports a node snapshot's cache size, in bytes (0 when it does not say). */
export function cacheSizeBytes(size: string | undefined): number {
  const match = /^([\d.]+)\s*(B|KB|MB|GB|TB)?$/i.exec(size?.trim() ?? '');
  if (!match) return 0;
  const unit = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }[(match[2] ?? 'B').toUpperCase() as 'B'];
  return Math.round(Number(match[1]) * unit);
}

export interface WaitOptions<T> {
  what: string;
  read: () => Promise<T>;
  judge: (state: T) => WaitVerdict<unknown>;
  intervalMs: number;
  timeoutMs: number;
  signal?: AbortSignal;
  onWait?: (status: string) => void;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

/** Reads, judges, waits, again: until done, failed (an error naming what), or the time is up (a retryable error). */
export async function waitFor<T>(o: WaitOptions<T>): Promise<void> {
  const now = o.now ?? Date.now;
  const started = now();
  for (;;) {
    o.signal?.throwIfAborted();
    const verdict = o.judge(await o.read());
    if ('done' in verdict) return;
    if ('failed' in verdict) throw new Error(`${o.what}: ${verdict.failed}`);
    o.onWait?.(verdict.waiting);
    if (now() - started + o.intervalMs > o.timeoutMs) throw new Error(`${o.what}: still ${verdict.waiting} after ${Math.round((now() - started) / 1000)} s`);
    await o.sleep(o.intervalMs, o.signal);
  }
}
