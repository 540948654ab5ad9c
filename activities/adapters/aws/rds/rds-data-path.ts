import { Client } from 'pg';
import type { InstanceConnection, InstanceId } from '../../../ports/database-platform';
import { currentLsnOf, readServerState, replicationOf, type ServerState } from '../../postgres-server-state';
import type { ReplicationStatus } from '../../../ports/database-platform';
import type { LocatedInstance } from './rds-locator';
import { tagsOf } from './rds-tags';

/** What the endpoint resolver is told about an instance: RDS's answer, tags included. */
export interface RdsInstanceFacts {
  instanceId: InstanceId;
  identifier: string;
  region: string;
  arn?: string;
  /** What RDS reports (absent while an instance is being created). */
  endpoint?: { host: string; port: number };
  status?: string;
  tags: Record<string, string>;
}

/**
 * Where the worker connects to reach an instance RDS reports at `endpoint`. In production the endpoint
 * itself; a worker that reaches RDS through a tunnel maps it; the tests map a moto instance (which has no
 * database behind it) to a real local PostgreSQL built for the same operation.
 */
export type RdsEndpointResolver = (instance: RdsInstanceFacts) => Promise<{ host: string; port: number } | undefined>;

export const rdsEndpointAsReported: RdsEndpointResolver = async (instance) => instance.endpoint;

/** The application database on an instance and who signs in to it: an enrolled instance's, from the secret store. */
export interface RdsCredentials {
  user: string;
  password: string;
  database: string;
}

export interface ServerFacts {
  state: ServerState;
  replication?: ReplicationStatus;
}

export function factsOf(located: LocatedInstance): RdsInstanceFacts {
  const { db } = located;
  return {
    instanceId: located.instanceId,
    identifier: located.identifier,
    region: located.region,
    ...(db.DBInstanceArn ? { arn: db.DBInstanceArn } : {}),
    ...(db.Endpoint?.Address && db.Endpoint.Port ? { endpoint: { host: db.Endpoint.Address, port: db.Endpoint.Port } } : {}),
    ...(db.DBInstanceStatus ? { status: db.DBInstanceStatus } : {}),
    tags: tagsOf(db.TagList),
  };
}

/**
 * The data path to RDS instances: the endpoint RDS reports (through the resolver) and the credentials of
 * the enrolled instance the data came from (a restore or a replica keeps its source's roles and passwords).
 */
export function createRdsDataPath(options: {
  resolveEndpoint: RdsEndpointResolver;
  credentials: (located: LocatedInstance) => Promise<RdsCredentials | undefined>;
  connectTimeoutMs: number;
}) {
  async function connectionOf(located: LocatedInstance): Promise<InstanceConnection | undefined> {
    const credentials = await options.credentials(located);
    if (!credentials) return undefined;
    const address = await options.resolveEndpoint(factsOf(located));
    if (!address) return undefined;
    return { host: address.host, port: address.port, database: credentials.database, user: credentials.user, password: credentials.password };
  }

  /** A connected client, or undefined when the instance does not answer (yet). */
  async function connect(located: LocatedInstance): Promise<Client | undefined> {
    const connection = await connectionOf(located);
    if (!connection) return undefined;
    const client = new Client({ ...connection, connectionTimeoutMillis: options.connectTimeoutMs, application_name: 'dr-runbooks-platform' });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch {
      await client.end().catch(() => undefined);
      return undefined;
    }
  }

  async function withClient<T>(located: LocatedInstance, fn: (client: Client) => Promise<T>): Promise<T | undefined> {
    const client = await connect(located);
    if (!client) return undefined;
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  return {
    connectionOf,
    withClient,
    /** What the server says about itself; with its source, how far behind it is. undefined when it does not answer. */
    async serverFacts(located: LocatedInstance, source?: () => Promise<LocatedInstance | undefined>): Promise<ServerFacts | undefined> {
      return withClient(located, async (client) => {
        const state = await readServerState(client);
        if (!state.inRecovery || !source) return { state };
        // In a region outage the source's region may not answer at all: its lag is unknown after a short wait.
        const sourceLocated = await withTimeout(source(), options.connectTimeoutMs).catch(() => undefined);
        const sourceLsn = sourceLocated ? await withClient(sourceLocated, currentLsnOf).catch(() => undefined) : undefined;
        return { state, replication: await replicationOf(client, state, sourceLocated?.instanceId ?? 'the source', sourceLsn) };
      }).catch(() => undefined);
    },
  };
}

export type RdsDataPath = ReturnType<typeof createRdsDataPath>;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); })]).finally(() => clearTimeout(timer));
}
