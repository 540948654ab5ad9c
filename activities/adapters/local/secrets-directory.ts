import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../../lib/atomic-file';
import { assertSecretName, type SecretRef, type SecretStore, type SecretValue, type SecretVersion } from '../../ports/secret-store';

/** The environment variable that overrides a secret: DR_SECRET_<NAME>, upper-cased, other characters as _. */
export const secretEnvName = (name: string) => `DR_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

interface VersionLog {
  /** Every version written through the store, oldest first. */
  versions: Array<{ version: string; createdAt: string }>;
  /** Versions in the order they were made current; the last is current. */
  currentHistory: string[];
}

/**
 * The local SecretStore: a directory with one file per secret name holding its current value (what an
 * operator puts there by hand), and `.versions/<name>/` with every version written through the store, so
 * a previous one can be read or made current again. `DR_SECRET_<NAME>` in the environment overrides the
 * directory for reads (and makes the secret read-only: a write nobody would read back is refused).
 */
export function createSecretsDirectory(directory: string | undefined, env: NodeJS.ProcessEnv = process.env): SecretStore {
  const currentFile = (name: string) => path.join(directory!, name);
  const versionsDir = (name: string) => path.join(directory!, '.versions', name);
  const logFile = (name: string) => path.join(versionsDir(name), 'versions.json');
  const readLog = (name: string): VersionLog => (existsSync(logFile(name)) ? JSON.parse(readFileSync(logFile(name), 'utf8')) : { versions: [], currentHistory: [] });
  const valueOf = (name: string, version: string) => readFileSync(path.join(versionsDir(name), version), 'utf8');

  function notSet(name: string): Error {
    return new Error(`secret "${name}" is not set: export ${secretEnvName(name)} or put it in ${directory ? path.join(directory, name) : 'a secrets directory (config: secretsDir)'}`);
  }

  function writable(name: string): void {
    assertSecretName(name);
    if (env[secretEnvName(name)]) throw new Error(`secret "${name}" is set by ${secretEnvName(name)} in the worker's environment, which overrides ${directory ?? 'the secrets directory'}: unset it to let the runbook write new versions`);
    if (!directory) throw new Error(`secret "${name}" cannot be written: no secrets directory is configured (config: secretsDir)`);
  }

  /** Records the hand-written current value as version 1 before the store writes its first version. */
  function adoptHandWritten(name: string, log: VersionLog): VersionLog {
    if (log.versions.length || !existsSync(currentFile(name))) return log;
    const adopted: VersionLog = { versions: [{ version: '1', createdAt: new Date().toISOString() }], currentHistory: ['1'] };
    writeFileAtomic(path.join(versionsDir(name), '1'), readFileSync(currentFile(name), 'utf8'));
    return adopted;
  }

  function makeCurrentNow(name: string, log: VersionLog, version: string): SecretVersion {
    const entry = log.versions.find((v) => v.version === version);
    if (!entry) throw new Error(`secret "${name}" has no version ${version} (have: ${log.versions.map((v) => v.version).join(', ') || 'none'})`);
    writeFileAtomic(currentFile(name), valueOf(name, version));
    if (log.currentHistory.at(-1) !== version) log.currentHistory.push(version);
    writeFileAtomic(logFile(name), JSON.stringify(log, null, 2) + '\n');
    return { name, ...entry };
  }

  return {
    async read(ref: string | SecretRef): Promise<SecretValue> {
      const { name, version } = typeof ref === 'string' ? { name: ref, version: undefined } : ref;
      assertSecretName(name);
      const fromEnv = env[secretEnvName(name)];
      if (fromEnv && (version === undefined || version === 'env')) return { name, version: 'env', value: fromEnv };
      if (!directory) throw notSet(name);
      const log = readLog(name);
      if (version !== undefined) {
        if (!log.versions.some((v) => v.version === version)) throw new Error(`secret "${name}" has no version ${version} (have: ${log.versions.map((v) => v.version).join(', ') || 'none'})`);
        return { name, version, value: valueOf(name, version).trim() };
      }
      if (!existsSync(currentFile(name))) throw notSet(name);
      return { name, version: log.currentHistory.at(-1) ?? 'file', value: readFileSync(currentFile(name), 'utf8').trim() };
    },

    async write(name, value) {
      writable(name);
      const log = adoptHandWritten(name, readLog(name));
      const current = log.currentHistory.at(-1);
      if (current !== undefined && valueOf(name, current).trim() === value.trim()) return { name, ...log.versions.find((v) => v.version === current)! };
      const version = String(log.versions.length + 1);
      writeFileAtomic(path.join(versionsDir(name), version), value);
      log.versions.push({ version, createdAt: new Date().toISOString() });
      return makeCurrentNow(name, log, version);
    },

    async readPrevious(name) {
      assertSecretName(name);
      if (!directory) return undefined;
      const history = readLog(name).currentHistory;
      const previous = [...history].reverse().find((v) => v !== history.at(-1));
      return previous === undefined ? undefined : { name, version: previous, value: valueOf(name, previous).trim() };
    },

    async makeCurrent(name, version) {
      writable(name);
      return makeCurrentNow(name, readLog(name), version);
    },
  };
}
