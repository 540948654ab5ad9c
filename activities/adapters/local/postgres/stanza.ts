import path from 'node:path';
import { assertInstanceId, type InstanceId } from '../../../ports/database-platform';
import { ownedByClusterUser, type PostgresCluster } from './cluster';
import { killProcessGroup, processGroupRuns } from './cluster-user-command';
import { dataDirOf, ensureSocketDir, stopPostmaster, writePrimaryAccessFiles } from './cluster-files';
import { InstanceRegistry } from './instance-registry';
import { archiveCommand, runPgBackRest, writePgBackRestConfig, type PgBackRestSetup } from './pgbackrest';

// Setting up the stanza: the production cluster whose WAL and backups go to pgBackRest, enrolled as the
// platform's protected primary; and stopping what the platform built when the environment stops.

export interface LocalPlatformOptions {
  /** The platform's own directory: instances.json, instances/, pgbackrest/. */
  stateDir: string;
  stanza: string;
  /** The directory repository; <stateDir>/pgbackrest/repo when omitted. */
  repoPath?: string;
  /** Parallel processes for restores and backups (pgBackRest --process-max). */
  processMax?: number;
  /** Longest a restore may spend replaying WAL before it is given up. */
  recoveryTimeoutMs?: number;
}

export function pgBackRestSetupOf(options: LocalPlatformOptions): PgBackRestSetup {
  return {
    configFile: path.join(options.stateDir, 'pgbackrest', 'pgbackrest.conf'),
    stanza: options.stanza,
    repoPath: options.repoPath ?? path.join(options.stateDir, 'pgbackrest', 'repo'),
    processMax: options.processMax ?? 2,
  };
}

export function registryOf(options: LocalPlatformOptions): InstanceRegistry {
  return new InstanceRegistry(path.join(options.stateDir, 'instances.json'));
}

/**
 * postgresql.conf settings for the cluster whose WAL and backups go to the stanza (production):
 * archive_command = pgbackrest archive-push, and a unix socket in its directory for pgBackRest.
 * Call before `startPostgresCluster({ dir: clusterDir, settings })`, then `enrolPrimaryInstance`.
 */
export async function prepareStanzaPrimary(options: LocalPlatformOptions, clusterDir: string): Promise<Record<string, string | number>> {
  await ownedByClusterUser(clusterDir);
  const { hbaFile, identFile } = await writePrimaryAccessFiles(clusterDir);
  const socketDir = await ensureSocketDir(clusterDir);
  return {
    unix_socket_directories: `'${socketDir}'`,
    hba_file: `'${hbaFile}'`,
    ident_file: `'${identFile}'`,
    wal_level: 'replica',
    archive_mode: 'on',
    archive_command: `'${archiveCommand(pgBackRestSetupOf(options))}'`,
    // A quiet database still closes a WAL segment every minute: bounds the RPO of a restore from the archive.
    archive_timeout: "'60s'",
    // Lets validation tell exactly which commits a point-in-time restore kept.
    track_commit_timestamp: 'on',
  };
}

/**
 * Registers a running cluster started with `prepareStanzaPrimary`'s settings as the stanza's primary
 * (protected: no runbook deletes it), writes pgBackRest's config and creates the stanza. Idempotent.
 */
export async function enrolPrimaryInstance(options: LocalPlatformOptions, input: { instanceId: InstanceId; cluster: PostgresCluster; database: string }): Promise<void> {
  assertInstanceId(input.instanceId);
  const setup = pgBackRestSetupOf(options);
  const socketDir = await ensureSocketDir(input.cluster.dir);
  await writePgBackRestConfig(setup, { dataDir: input.cluster.dataDir, port: input.cluster.port, socketDir });
  await runPgBackRest(setup, 'stanza-create');
  await runPgBackRest(setup, 'check');
  await registryOf(options).update(input.instanceId, (current) => ({
    instanceId: input.instanceId,
    dir: input.cluster.dir,
    port: input.cluster.port,
    role: 'primary',
    status: 'available',
    origin: { kind: 'enrolled' },
    protected: true,
    database: input.database,
    stanza: setup.stanza,
    socketDir,
    createdAt: current?.createdAt ?? new Date().toISOString(),
  }));
}

/**
 * Stops every running cluster of the platform except the enrolled ones (their owner stops them),
 * and any pgBackRest command still building one. Instances stay registered; their data stays on disk.
 */
export async function stopPlatformInstances(options: LocalPlatformOptions): Promise<void> {
  for (const r of registryOf(options).all()) {
    if (r.protected) continue;
    if (r.operationPgid && processGroupRuns(r.operationPgid, r.dir)) killProcessGroup(r.operationPgid);
    await stopPostmaster(dataDirOf(r.dir), 'fast');
  }
}
