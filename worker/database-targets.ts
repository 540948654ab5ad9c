import type { DatabaseTargetResolver } from '../activities/app-runtime';
import type { WorkerConfig } from './config';
import type { SecretResolver } from './secrets';

/** Connection targets by config name, with the password from its secret: used only inside the worker. */
export function createDatabaseTargetResolver(config: WorkerConfig, secret: SecretResolver): DatabaseTargetResolver {
  return (name) => {
    const db = config.databases[name];
    if (!db) throw new Error(`"${name}" is not in the worker config (known: ${Object.keys(config.databases).join(', ') || 'none'})`);
    return { name, host: db.host, port: db.port, database: db.database, user: db.user, password: secret(db.passwordSecret) };
  };
}
