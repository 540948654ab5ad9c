/**
 * ObjectStore port: where reports, baselines and drill evidence are kept.
 * Adapters: local (a directory, the embedded default) and S3. Keys are '/'-separated paths.
 */
export interface ObjectStore {
  put(key: string, body: string | Buffer, contentType?: string): Promise<void>;
  /** undefined when there is no such object. */
  get(key: string): Promise<Buffer | undefined>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
}

/**
 * The keys every store takes: '/'-separated names without empty, '.' or '..' parts, not starting with '/',
 * no backslash or NUL. Refused with a line that names the key.
 */
export function assertObjectKey(key: string): string {
  const parts = key.split('/');
  if (!key || key.startsWith('/') || key.includes('\\') || key.includes('\0') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`object key "${key}" is not valid: use '/'-separated names without empty, '.' or '..' parts, not starting with '/'`);
  }
  return key;
}
