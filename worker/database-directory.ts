import { Pool } from 'pg';
import type { DatabaseDirectory } from '../activities';
import type { WorkerConfig } from './config';
import type { SecretResolver } from './secrets';

/** One lazily created pool per configured database, closed together when the worker stops. */
export function createDatabaseDirectory(config: WorkerConfig, secret: SecretResolver): DatabaseDirectory & { close(): Promise<void> } {
  const pools = new Map<string, Pool>();
  return {
    pool(name) {
      let pool = pools.get(name);
      if (!pool) {
        const db = config.databases[name];
        if (!db) throw new Error(`database "${name}" is not in the worker config (known: ${Object.keys(config.databases).join(', ') || 'none'})`);
        pool = new Pool({ host: db.host, port: db.port, database: db.database, user: db.user, password: secret(db.passwordSecret), max: 4, connectionTimeoutMillis: 10_000, application_name: 'dr-runbooks' });
        pool.on('error', () => undefined); // an idle client dropped by a dying server must not crash the worker
        pools.set(name, pool);
      }
      return pool;
    },
    async close() {
      await Promise.all([...pools.values()].map((p) => p.end()));
      pools.clear();
    },
  };
}
