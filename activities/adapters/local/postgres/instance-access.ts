import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { ReplicaLag } from '../../../../contracts/replica-lag';
import type { InstanceDescription } from '../../../ports/database-platform';
import { superuser } from './cluster';
import { dataDirOf, runningPostmaster } from './cluster-files';
import type { InstanceRegistry, InstanceRecord } from './instance-registry';

// Reaching a local instance: its superuser password, a client, whether it answers, what it is now.

export const passwordOf = (r: InstanceRecord) => readFileSync(path.join(r.dir, 'superuser.password'), 'utf8').trim();

export async function withClient<T>(r: InstanceRecord, fn: (client: Client) => Promise<T>, database = 'postgres'): Promise<T> {
  const client = new Client({ host: '127.0.0.1', port: r.port, user: superuser, password: passwordOf(r), database, connectionTimeoutMillis: 5000, application_name: 'dr-runbooks-platform' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function accepting(r: InstanceRecord): Promise<boolean> {
  if (!runningPostmaster(dataDirOf(r.dir))) return false;
  try {
    await withClient(r, (c) => c.query('SELECT 1'));
    return true;
  } catch {
    return false;
  }
}

/** The port's description of an instance: from the registry, and from the server when it answers. */
export async function describeRecord(registry: InstanceRegistry, r: InstanceRecord): Promise<InstanceDescription> {
  const base: InstanceDescription = {
    instanceId: r.instanceId,
    role: r.role,
    status: r.status,
    acceptingConnections: false,
    endpoint: { host: '127.0.0.1', port: r.port, database: r.database },
    origin: r.origin,
    protected: r.protected,
    createdAt: r.createdAt,
  };
  if (!(await accepting(r))) return base;
  return withClient(r, async (c) => {
    const row = (await c.query<{ in_recovery: boolean; current_lsn: string | null; replay_lsn: string | null; receive_lsn: string | null; last_replay: Date | null; timeline: number; streaming: boolean }>(`
      SELECT pg_is_in_recovery() AS in_recovery,
             CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS current_lsn,
             pg_last_wal_replay_lsn()::text AS replay_lsn,
             pg_last_wal_receive_lsn()::text AS receive_lsn,
             pg_last_xact_replay_timestamp() AS last_replay,
             (SELECT timeline_id FROM pg_control_checkpoint()) AS timeline,
             EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AS streaming`)).rows[0]!;
    const description: InstanceDescription = { ...base, acceptingConnections: true, role: row.in_recovery ? 'replica' : 'primary', timeline: row.timeline };
    if (!row.in_recovery) return { ...description, currentLsn: row.current_lsn ?? undefined };
    description.replayLsn = row.replay_lsn ?? undefined;
    const sourceId = r.origin.kind === 'enrolled' ? undefined : r.origin.sourceInstanceId;
    const source = sourceId ? registry.get(sourceId) : undefined;
    if (sourceId && source && row.replay_lsn) {
      const primaryLsn = await withClient(source, async (p) => (await p.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn).catch(() => undefined);
      const bytes = primaryLsn ? Number((await c.query<{ d: string }>('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::text AS d', [primaryLsn, row.replay_lsn])).rows[0]!.d) : undefined;
      const lag: ReplicaLag = bytes === undefined ? { state: 'unknown', reason: `${sourceId} did not answer` } : bytes <= 0 ? { state: 'caught-up' } : { state: 'behind', bytes };
      const lagSeconds = lag.state === 'caught-up' || !row.last_replay ? 0 : Math.max(0, (Date.now() - row.last_replay.getTime()) / 1000);
      description.replication = { sourceInstanceId: sourceId, lag, lagSeconds, streaming: row.streaming };
    }
    return description;
  });
}
