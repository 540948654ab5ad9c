import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../../../lib/atomic-file';
import type { InstanceId, InstanceOrigin, InstanceRole, RecoveryPoint } from '../../../ports/database-platform';

/** What the local platform remembers of an instance, on disk so a restarted worker finds it. */
export interface InstanceRecord {
  instanceId: InstanceId;
  /** The cluster's directory: data/, postgres.log, superuser.password. */
  dir: string;
  port: number;
  role: InstanceRole;
  status: 'creating' | 'available' | 'deleting';
  origin: InstanceOrigin;
  protected: boolean;
  database: string;
  /** Set on the primary whose WAL and backups go to a stanza. */
  stanza?: string;
  /** Unix socket directory (only the stanza's primary has one: pgBackRest connects through it). */
  socketDir?: string;
  /** Process group of the pgBackRest command building the instance: a restarted worker stops it. */
  operationPgid?: number;
  /** postgresql.conf settings it was started with, to start it again after a stop. */
  settings?: Record<string, string | number>;
  /** Where a point-in-time restore stopped, so a retry that finds the instance built can report it. */
  recovery?: { recoveredTo: RecoveryPoint; dataLossWindowSeconds?: number };
  createdAt: string;
}

interface RegistryFile {
  instances: Record<InstanceId, InstanceRecord>;
}

/**
 * A JSON file of instances, replaced atomically (lib/atomic-file). Updates within one worker are
 * serialised; one state directory belongs to one worker process at a time.
 */
export class InstanceRegistry {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly file: string) {}

  private read(): RegistryFile {
    if (!existsSync(this.file)) return { instances: {} };
    return JSON.parse(readFileSync(this.file, 'utf8')) as RegistryFile;
  }

  get(instanceId: InstanceId): InstanceRecord | undefined {
    return this.read().instances[instanceId];
  }

  all(): InstanceRecord[] {
    return Object.values(this.read().instances);
  }

  /** Applies a change to one record (undefined removes it), serialised with other updates. */
  update(instanceId: InstanceId, change: (current: InstanceRecord | undefined) => InstanceRecord | undefined): Promise<InstanceRecord | undefined> {
    const next = this.queue.then(() => {
      const registry = this.read();
      const updated = change(registry.instances[instanceId]);
      if (updated) registry.instances[instanceId] = updated;
      else delete registry.instances[instanceId];
      writeFileAtomic(this.file, JSON.stringify(registry, null, 2) + '\n', 0o600);
      return updated;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  put(record: InstanceRecord): Promise<InstanceRecord | undefined> {
    return this.update(record.instanceId, () => record);
  }

  remove(instanceId: InstanceId): Promise<InstanceRecord | undefined> {
    return this.update(instanceId, () => undefined);
  }
}
