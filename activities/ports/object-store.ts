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
