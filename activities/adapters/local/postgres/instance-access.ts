import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { InstanceDescription } from '../../../ports/database-platform';
import { currentLsnOf, readServerState, replicationOf } from '../../postgres-server-state';
import { superuser } from './cluster';
import { dataDirOf, runningPostmaster } from './cluster-files';
import type { InstanceRegistry, InstanceRecord } from './instance-registry';

// Reaching a local instance: its superuser password, a client, whether it answers, what it is now.

export const passwordOf = (r: InstanceRecord) => readFileSync(path.join(r.dir, 'superuser.password'), 'utf8').trim();

/** A connected superuser client on the instance; the caller ends it (endQuietly). */
export async function connectTo(r: InstanceRecord, database = 'postgres'): Promise<Client> {
  const client = new Client({ host: '127.0.0.1', port: r.port, user: superuser, password: passwordOf(r), database, connectionTimeoutMillis: 5000, application_name: 'dr-runbooks-platform' });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export async function endQuietly(client: Client): Promise<undefined> {
  await client.end().catch(() => undefined);
  return undefined;
}

export async function withClient<T>(r: InstanceRecord, fn: (client: Client) => Promise<T>, database = 'postgres'): Promise<T> {
  const client = await connectTo(r, database);
  try {
    return await fn(client);
  } finally {
    await endQuietly(client);
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
    const state = await readServerState(c);
    const description: InstanceDescription = { ...base, acceptingConnections: true, role: state.inRecovery ? 'replica' : 'primary', timeline: state.timeline };
    if (!state.inRecovery) return { ...description, currentLsn: state.currentLsn };
    description.replayLsn = state.replayLsn;
    const sourceId = r.origin.kind === 'enrolled' ? undefined : r.origin.sourceInstanceId;
    const source = sourceId ? registry.get(sourceId) : undefined;
    if (sourceId && source && state.replayLsn) {
      const sourceLsn = await withClient(source, currentLsnOf).catch(() => undefined);
      description.replication = await replicationOf(c, state, sourceId, sourceLsn);
    }
    return description;
  });
}
