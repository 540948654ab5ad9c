/**
 * SecretStore port: secrets by name, in versions. Adapters: local (the worker's secrets directory, with
 * DR_SECRET_<NAME> overrides), AWS Secrets Manager, a Kubernetes Secret. Everything else in the project
 * refers to a secret by name (config, inputs, history, reports); only the worker reads a value, here.
 */

/** A secret by name, and the version meant (the current one when absent). Never the value. */
export interface SecretRef {
  name: string;
  version?: string;
}

/** One version of a secret, without its value. */
export interface SecretVersion {
  name: string;
  /** Opaque to callers: Secrets Manager's VersionId, a Kubernetes resourceVersion, a local number. */
  version: string;
  createdAt?: string;
}

export interface SecretValue extends SecretVersion {
  value: string;
}

export interface SecretStore {
  /** The current version (or the one named); rejects with a line saying where the secret was looked for. */
  read(ref: string | SecretRef): Promise<SecretValue>;
  /** Writes a new version and makes it current; a value equal to the current one writes nothing (a retried step). */
  write(name: string, value: string): Promise<SecretVersion>;
  /** The version that was current before the current one; undefined when there is none. */
  readPrevious(name: string): Promise<SecretValue | undefined>;
  /** Makes an existing version current again (a rollback). */
  makeCurrent(name: string, version: string): Promise<SecretVersion>;
}

/** A name every adapter can store (a file name, a Secrets Manager name, a Kubernetes key). */
export const secretNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const secretNameRule = "1-128 of letters, digits, '.', '_' and '-', starting with a letter or digit";

export function assertSecretName(name: string): void {
  if (!secretNamePattern.test(name)) throw new Error(`secret name "${name}" is not valid: ${secretNameRule}`);
}
