import { Pool } from 'pg';
import type { DatabaseConnection, DatabaseConnections } from '../activities/database-connections';
import type { InstanceConnection } from '../activities/ports/database-platform';
import type { SecretStore } from '../activities/ports/secret-store';
import type { WorkerConfig } from './config';

/** Resolves an instance id the DatabasePlatform returned (a restored copy, a promoted replica). */
export interface InstanceConnections {
  connectionFor(instanceId: string): Promise<InstanceConnection | undefined>;
}

/**
 * The worker's one name-to-connection resolver, and a lazily created pool per database on it, closed
 * together when the worker stops. A name is a database of the config (its password a secret in the
 * SecretStore, read when a connection is made, so a rotated secret is picked up) or, failing that, an
 * instance id the platform returned, so validation SQL reaches whatever instance a restore built.
 */
export function createDatabaseConnections(config: WorkerConfig, secrets: SecretStore, instances?: InstanceConnections): DatabaseConnections & { close(): Promise<void> } {
  const pools = new Map<string, Pool>();

  async function connection(name: string): Promise<DatabaseConnection> {
    const db = config.databases[name];
    if (db) return { name, host: db.host, port: db.port, database: db.database, user: db.user, password: async () => (await secrets.read(db.passwordSecret)).value };
    const instance = await instances?.connectionFor(name);
    if (instance) return { name, host: instance.host, port: instance.port, database: instance.database, user: instance.user, password: async () => instance.password };
    throw new Error(`database "${name}" is neither in the worker config (known: ${Object.keys(config.databases).join(', ') || 'none'}) nor an instance of the database platform`);
  }

  const newPool = (c: DatabaseConnection) => {
    const pool = new Pool({ host: c.host, port: c.port, database: c.database, user: c.user, password: c.password, max: 4, connectionTimeoutMillis: 10_000, application_name: 'dr-runbooks' });
    // A server that dies (or an instance a compensation deletes) must not crash the worker: an idle client's
    // error reaches the pool, a checked-out client's error reaches the client, and its query rejects anyway.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    return pool;
  };

  return {
    connection,
    async pool(name) {
      const target = await connection(name);
      // An instance rebuilt under the same id may listen elsewhere: its pool is keyed by its port too.
      const key = config.databases[name] ? `config:${name}` : `instance:${name}:${target.port}`;
      let pool = pools.get(key);
      if (!pool) {
        pool = newPool(target);
        pools.set(key, pool);
      }
      return pool;
    },
    async close() {
      await Promise.all([...pools.values()].map((p) => p.end()));
      pools.clear();
    },
  };
}
