import { JsonRegistry } from '../../../../lib/json-registry';
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

/** The platform's instances.json (`{"instances": {…}}`), replaced atomically (lib/atomic-file). */
export class InstanceRegistry extends JsonRegistry<InstanceRecord> {
  constructor(file: string) {
    super(file, 'instances');
  }

  put(record: InstanceRecord): Promise<InstanceRecord | undefined> {
    return this.update(record.instanceId, () => record);
  }
}
