import type { DatabaseTargetResolver } from '../activities/app-runtime';
import type { WorkerConfig } from './config';
import type { InstanceConnections } from './database-directory';
import type { SecretResolver } from './secrets';

/**
 * Connection targets by config name, with the password from its secret: used only inside the worker.
 * A name not in the config may be an instance id the DatabasePlatform returned (a restored copy).
 */
export function createDatabaseTargetResolver(config: WorkerConfig, secret: SecretResolver, instances?: InstanceConnections): DatabaseTargetResolver {
  return (name) => {
    const db = config.databases[name];
    const instance = db ? undefined : instances?.connectionFor(name);
    if (instance) return { name, ...instance };
    if (!db) throw new Error(`"${name}" is neither in the worker config (known: ${Object.keys(config.databases).join(', ') || 'none'}) nor an instance of the database platform`);
    return { name, host: db.host, port: db.port, database: db.database, user: db.user, password: secret(db.passwordSecret) };
  };
}
