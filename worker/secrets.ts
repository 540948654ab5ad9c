import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Secrets are referred to by name everywhere (config, inputs, history); only the worker resolves a
 * name, from the environment (DR_SECRET_<NAME>) or from a file of that name in the secrets directory.
 */
export function createSecretResolver(secretsDir?: string) {
  return (name: string): string => {
    const envName = `DR_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
    const fromEnv = process.env[envName];
    if (fromEnv) return fromEnv;
    if (secretsDir) {
      const file = path.join(secretsDir, name);
      if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    }
    throw new Error(`secret "${name}" is not set: export ${envName} or put it in ${secretsDir ? path.join(secretsDir, name) : 'a secrets directory (config: secretsDir)'}`);
  };
}
export type SecretResolver = ReturnType<typeof createSecretResolver>;
