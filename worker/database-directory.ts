import { Pool } from 'pg';
import type { DatabaseDirectory } from '../activities';
import type { InstanceConnection } from '../activities/ports/database-platform';
import type { WorkerConfig } from './config';
import type { SecretResolver } from './secrets';

/** Resolves an instance id the DatabasePlatform returned (a restored copy, a promoted replica). */
export interface InstanceConnections {
  connectionFor(instanceId: string): InstanceConnection | undefined;
}

/**
 * One lazily created pool per database, closed together when the worker stops. A name is a database
 * of the config or, failing that, an instance id the platform returned, so validation SQL reaches
 * whatever instance a restore built.
 */
export function createDatabaseDirectory(config: WorkerConfig, secret: SecretResolver, instances?: InstanceConnections): DatabaseDirectory & { close(): Promise<void> } {
  const pools = new Map<string, Pool>();
  const newPool = (c: InstanceConnection) => {
    const pool = new Pool({ ...c, max: 4, connectionTimeoutMillis: 10_000, application_name: 'dr-runbooks' });
    // A server that dies (or an instance a compensation deletes) must not crash the worker: an idle client's
    // error reaches the pool, a checked-out client's error reaches the client, and its query rejects anyway.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    return pool;
  };
  return {
    pool(name) {
      const db = config.databases[name];
      const instance = db ? undefined : instances?.connectionFor(name);
      // An instance rebuilt under the same id may listen elsewhere: its pool is keyed by its port too.
      const key = db ? `config:${name}` : `instance:${name}:${instance?.port}`;
      let pool = pools.get(key);
      if (!pool) {
        if (db) pool = newPool({ host: db.host, port: db.port, database: db.database, user: db.user, password: secret(db.passwordSecret) });
        else if (instance) pool = newPool(instance);
        else throw new Error(`database "${name}" is neither in the worker config (known: ${Object.keys(config.databases).join(', ') || 'none'}) nor an instance of the database platform`);
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
