import { chmodSync, copyFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { sleep } from '../../../../lib/child-process';
import { freePort, isListening } from '../../../../lib/ports';
import { giveToClusterUser, ownedByClusterUser, startPostgresCluster, superuser, type PostgresCluster } from './cluster';
import {
  assertInstanceId,
  PlatformRequestError,
  PlatformVerificationError,
  type BackupSet,
  type DatabasePlatform,
  type InstanceConnection,
  type InstanceDescription,
  type InstanceId,
  type InstanceOrigin,
  type OperationOptions,
  type PointInTimeRestoreResult,
  type RecoveryPoint,
  type RecoveryTarget,
  type RestorePoint,
} from '../../../ports/database-platform';
import { CommandAbortedError, CommandFailedError, killProcessGroup, processGroupRuns } from './cluster-user-command';
import {
  dataDirOf,
  ensureSocketDir,
  logTail,
  newestFileTime,
  recoverySettingsFrom,
  recoveryStopLines,
  runningPostmaster,
  stopPostmaster,
  writePrimaryAccessFiles,
} from './cluster-files';
import { InstanceRegistry, type InstanceRecord } from './instance-registry';
import { archiveCommand, restorePercent, runPgBackRest, spawnPgBackRest, stanzaInfo, writePgBackRestConfig, type PgBackRestSetup } from './pgbackrest';

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
  const registry = new InstanceRegistry(path.join(options.stateDir, 'instances.json'));
  await registry.update(input.instanceId, (current) => ({
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

/** The local DatabasePlatform: PostgreSQL 15 clusters on loopback ports, backups and WAL by pgBackRest. */
export function createLocalDatabasePlatform(options: LocalPlatformOptions): DatabasePlatform {
  const setup = pgBackRestSetupOf(options);
  const registry = new InstanceRegistry(path.join(options.stateDir, 'instances.json'));
  const instancesDir = path.join(options.stateDir, 'instances');
  const restorePointsFile = path.join(options.stateDir, 'restore-points.json');
  const restorePoints = (): Record<string, RestorePoint> => (existsSync(restorePointsFile) ? JSON.parse(readFileSync(restorePointsFile, 'utf8')) : {});
  const recoveryTimeoutMs = options.recoveryTimeoutMs ?? 30 * 60_000;
  /** Operations this worker is running, so a retry in the same process stops the earlier attempt first. */
  const inFlight = new Map<InstanceId, { controller: AbortController; done: Promise<unknown> }>();

  const record = (instanceId: InstanceId): InstanceRecord => {
    const found = registry.get(instanceId);
    if (!found) throw new PlatformRequestError(`instance "${instanceId}" does not exist (known: ${registry.all().map((r) => r.instanceId).join(', ') || 'none'})`);
    return found;
  };

  const passwordOf = (r: InstanceRecord) => readFileSync(path.join(r.dir, 'superuser.password'), 'utf8').trim();

  async function withClient<T>(r: InstanceRecord, fn: (client: Client) => Promise<T>, database = 'postgres'): Promise<T> {
    const client = new Client({ host: '127.0.0.1', port: r.port, user: superuser, password: passwordOf(r), database, connectionTimeoutMillis: 5000, application_name: 'dr-runbooks-platform' });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async function accepting(r: InstanceRecord): Promise<boolean> {
    if (!runningPostmaster(dataDirOf(r.dir))) return false;
    try {
      await withClient(r, (c) => c.query('SELECT 1'));
      return true;
    } catch {
      return false;
    }
  }

  const stanzaPrimary = (sourceInstanceId: InstanceId): InstanceRecord => {
    const source = record(sourceInstanceId);
    if (source.stanza !== setup.stanza) {
      throw new PlatformRequestError(`instance "${sourceInstanceId}" has no backups: only the stanza "${setup.stanza}" primary (${registry.all().filter((r) => r.stanza === setup.stanza).map((r) => r.instanceId).join(', ') || 'none enrolled'}) is backed up`);
    }
    return source;
  };

  async function describe(r: InstanceRecord): Promise<InstanceDescription> {
    const base: InstanceDescription = {
      instanceId: r.instanceId,
      role: r.role,
      status: r.status,
      acceptingConnections: false,
      endpoint: { host: '127.0.0.1', port: r.port, database: r.database },
      origin: r.origin,
      protected: r.protected,
      createdAt: r.createdAt,
    };
    if (!(await accepting(r))) return base;
    return withClient(r, async (c) => {
      const row = (await c.query<{ in_recovery: boolean; current_lsn: string | null; replay_lsn: string | null; receive_lsn: string | null; last_replay: Date | null; timeline: number; streaming: boolean }>(`
        SELECT pg_is_in_recovery() AS in_recovery,
               CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS current_lsn,
               pg_last_wal_replay_lsn()::text AS replay_lsn,
               pg_last_wal_receive_lsn()::text AS receive_lsn,
               pg_last_xact_replay_timestamp() AS last_replay,
               (SELECT timeline_id FROM pg_control_checkpoint()) AS timeline,
               EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AS streaming`)).rows[0]!;
      const description: InstanceDescription = { ...base, acceptingConnections: true, role: row.in_recovery ? 'replica' : 'primary', timeline: row.timeline };
      if (!row.in_recovery) return { ...description, currentLsn: row.current_lsn ?? undefined };
      description.replayLsn = row.replay_lsn ?? undefined;
      const sourceId = r.origin.kind === 'enrolled' ? undefined : r.origin.sourceInstanceId;
      const source = sourceId ? registry.get(sourceId) : undefined;
      if (sourceId && source && row.replay_lsn) {
        const primaryLsn = await withClient(source, async (p) => (await p.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn).catch(() => undefined);
        const lagBytes = primaryLsn ? Number((await c.query<{ d: string }>('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::text AS d', [primaryLsn, row.replay_lsn])).rows[0]!.d) : NaN;
        const caughtUp = lagBytes <= 0;
        const lagSeconds = caughtUp || !row.last_replay ? 0 : Math.max(0, (Date.now() - row.last_replay.getTime()) / 1000);
        description.replication = { sourceInstanceId: sourceId, lagBytes: Number.isNaN(lagBytes) ? -1 : Math.max(0, lagBytes), lagSeconds, streaming: row.streaming };
      }
      return description;
    });
  }

  /**
   * A built instance whose server is down (the stack was stopped, the machine rebooted) is started
   * again with the settings it was built with, on its port or, if that is taken, a free one.
   */
  async function startIfStopped(r: InstanceRecord): Promise<void> {
    if (r.status !== 'available' || r.protected || !r.settings || runningPostmaster(dataDirOf(r.dir))) return;
    const port = (await isListening(r.port)) ? await freePort() : r.port;
    await startPostgresCluster({ dir: r.dir, port, settings: r.settings, startTimeoutSeconds: Math.ceil(recoveryTimeoutMs / 1000) });
    await registry.update(r.instanceId, (current) => current && { ...current, port });
  }

  /** Stops whatever an earlier attempt left building this instance, and removes it. */
  async function discard(r: InstanceRecord): Promise<void> {
    const running = inFlight.get(r.instanceId);
    if (running) {
      running.controller.abort();
      await running.done.catch(() => undefined);
    }
    await registry.update(r.instanceId, (current) => (current ? { ...current, status: 'deleting' } : current));
    if (r.operationPgid && processGroupRuns(r.operationPgid, r.dir)) {
      killProcessGroup(r.operationPgid);
      // Removing files a dying pgbackrest still writes would race it: wait until the group is gone.
      for (let i = 0; i < 100 && processGroupRuns(r.operationPgid, r.dir); i++) await sleep(50);
    }
    await stopPostmaster(dataDirOf(r.dir), 'immediate');
    rmSync(r.dir, { recursive: true, force: true });
    await registry.remove(r.instanceId);
  }

  /**
   * The retry rule: an instance already built for the same request is returned; a half-built one
   * (a worker died, or an attempt was abandoned) is removed so it can be built again; an id taken
   * by something else is refused.
   */
  async function existingFor(instanceId: InstanceId, matches: (origin: InstanceOrigin) => boolean): Promise<InstanceRecord | undefined> {
    const found = registry.get(instanceId);
    if (!found) {
      const dir = path.join(instancesDir, instanceId);
      if (existsSync(dir)) { await stopPostmaster(dataDirOf(dir), 'immediate'); rmSync(dir, { recursive: true, force: true }); }
      return undefined;
    }
    if (found.protected || !matches(found.origin)) {
      throw new PlatformRequestError(`instance "${instanceId}" already exists and was built for another request (${JSON.stringify(found.origin)}); choose another instance id`);
    }
    if (found.status === 'available') return found;
    await discard(found);
    return undefined;
  }

  type BuildKind =
    | { kind: 'backup'; backup: BackupSet }
    | { kind: 'pointInTime'; backup: BackupSet; target: RecoveryTarget }
    | { kind: 'replica'; backup: BackupSet };

  /** Runs pgbackrest restore into a new instance directory and starts PostgreSQL on it. */
  async function build(instanceId: InstanceId, source: InstanceRecord, build: BuildKind, origin: InstanceOrigin, opts: OperationOptions): Promise<{ r: InstanceRecord; cluster: PostgresCluster }> {
    const dir = path.join(instancesDir, instanceId);
    const dataDir = dataDirOf(dir);
    const port = await freePort();
    let r: InstanceRecord = {
      instanceId, dir, port, role: build.kind === 'replica' ? 'replica' : 'primary', status: 'creating', origin, protected: false,
      database: source.database, createdAt: new Date().toISOString(),
    };
    await registry.put(r);
    await ownedByClusterUser(dir);
    await ownedByClusterUser(dataDir);
    chmodSync(dataDir, 0o700);
    // The restored cluster holds the source's roles, so its superuser password is the source's.
    copyFileSync(path.join(source.dir, 'superuser.password'), path.join(dir, 'superuser.password'));

    const restoreOptions = [`--pg1-path=${dataDir}`, `--set=${build.backup.label}`, `--process-max=${setup.processMax}`, '--log-level-console=detail', '--archive-mode=off'];
    if (build.kind === 'backup') restoreOptions.push('--type=immediate', '--target-action=promote');
    if (build.kind === 'replica') restoreOptions.push('--type=standby', '--target-timeline=latest');
    if (build.kind === 'pointInTime') {
      const t = build.target;
      // PostgreSQL's recovery_target_time wants "2026-11-23 13:55:43.680+00", not ISO's T and Z.
      if (t.kind === 'time') restoreOptions.push('--type=time', `--target=${t.time.replace('T', ' ').replace('Z', '+00')}`, '--target-action=pause', '--target-timeline=current');
      if (t.kind === 'name') restoreOptions.push('--type=name', `--target=${t.name}`, '--target-action=pause', '--target-timeline=current');
      // No target: replay to the end of the archive, then PostgreSQL promotes itself (pgBackRest refuses --target-action here).
      if (t.kind === 'latest') restoreOptions.push('--type=default', '--target-timeline=current');
    }
    opts.onProgress?.({ phase: 'restoring', bytesDone: 0, bytesTotal: build.backup.sizeBytes, message: `pgbackrest restore of backup set ${build.backup.label}` });
    const restore = spawnPgBackRest(setup, 'restore', restoreOptions, {
      signal: opts.signal,
      onLine: (line) => {
        const percent = restorePercent(line);
        if (percent !== undefined) opts.onProgress?.({ phase: 'restoring', bytesDone: Math.round((build.backup.sizeBytes * percent) / 100), bytesTotal: build.backup.sizeBytes });
      },
    });
    r = (await registry.update(instanceId, (current) => current && { ...current, operationPgid: restore.pgid }))!;
    await restore.done;
    r = (await registry.update(instanceId, (current) => current && { ...current, operationPgid: undefined }))!;

    const settings: Record<string, string | number> = { ...recoverySettingsFrom(path.join(dataDir, 'postgresql.auto.conf')), archive_mode: 'off' };
    if (build.kind === 'replica') {
      const passfile = path.join(dir, 'replication.pgpass');
      writeFileSync(passfile, `127.0.0.1:${source.port}:*:${superuser}:${passwordOf(source).replace(/([:\\])/g, '\\$1')}\n`, { mode: 0o600 });
      await giveToClusterUser(passfile);
      settings.primary_conninfo = `'host=127.0.0.1 port=${source.port} user=${superuser} passfile=${passfile} application_name=${instanceId}'`;
    }
    r = (await registry.update(instanceId, (current) => current && { ...current, settings }))!;
    opts.onProgress?.({ phase: 'starting', bytesDone: build.backup.sizeBytes, bytesTotal: build.backup.sizeBytes, message: 'starting PostgreSQL, replaying WAL to a consistent state' });
    const stopOnAbort = () => void stopPostmaster(dataDir, 'immediate').catch(() => undefined);
    opts.signal?.addEventListener('abort', stopOnAbort, { once: true });
    try {
      const cluster = await startPostgresCluster({ dir, port, settings, startTimeoutSeconds: Math.ceil(recoveryTimeoutMs / 1000) });
      return { r, cluster };
    } catch (error) {
      if (opts.signal?.aborted) throw new CommandAbortedError('restore cancelled while PostgreSQL was starting');
      throw new PlatformVerificationError(`${recoveryFailure(r, 'PostgreSQL did not start')}\n(${(error as Error).message.split('\n')[0]})`);
    } finally {
      opts.signal?.removeEventListener('abort', stopOnAbort);
    }
  }

  /** Runs an operation that builds an instance; on failure or cancellation the half-built instance is removed. */
  async function building<T>(instanceId: InstanceId, opts: OperationOptions, fn: (o: OperationOptions) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) controller.abort();
    const work = fn({ ...opts, signal: controller.signal });
    inFlight.set(instanceId, { controller, done: work });
    try {
      return await work;
    } catch (error) {
      inFlight.delete(instanceId);
      const half = registry.get(instanceId);
      if (half && half.status !== 'available') await discard(half);
      throw error;
    } finally {
      inFlight.delete(instanceId);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Why a restored instance died, in words, with the end of its log. */
  function recoveryFailure(r: InstanceRecord, fallback: string): string {
    const tail = logTail(path.join(r.dir, 'postgres.log'));
    const target = r.origin.kind === 'pointInTime' ? ` ${JSON.stringify(r.origin.target)}` : '';
    const why = /recovery ended before configured recovery target was reached/.test(tail)
      ? `the archived WAL ends before the recovery target${target} (a restore point that was never created, or WAL not archived yet)`
      : fallback;
    const backup = r.origin.kind === 'enrolled' ? '' : ` Backup set ${r.origin.backupLabel}.`;
    return `restore into "${r.instanceId}" failed: ${why}; the half-built instance is removed.${backup} Its log ends with:\n${tail}`;
  }

  type RecoveryState = { in_recovery: boolean; pause_state: string; replay_lsn: string | null };

  async function recoveryState(r: InstanceRecord): Promise<RecoveryState> {
    return withClient(r, async (c) => (await c.query<RecoveryState>(`SELECT pg_is_in_recovery() AS in_recovery,
      -- pg_get_wal_replay_pause_state() raises once recovery has ended
      CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() ELSE 'not paused' END AS pause_state,
      pg_last_wal_replay_lsn()::text AS replay_lsn`)).rows[0]!);
  }

  /** Polls until the condition holds, reporting replay progress; fails if the postmaster dies. */
  async function waitForRecovery(r: InstanceRecord, until: (s: RecoveryState) => boolean, opts: OperationOptions, what: string): Promise<RecoveryState> {
    const deadline = Date.now() + recoveryTimeoutMs;
    for (;;) {
      if (opts.signal?.aborted) throw new CommandAbortedError(`cancelled while waiting for ${what}`);
      if (!runningPostmaster(dataDirOf(r.dir))) {
        throw new PlatformVerificationError(recoveryFailure(r, `PostgreSQL stopped while waiting for ${what}`));
      }
      const state = await recoveryState(r).catch(() => undefined);
      if (state && until(state)) return state;
      if (state) opts.onProgress?.({ phase: 'replaying', replayLsn: state.replay_lsn ?? undefined, message: `waiting for ${what}` });
      if (Date.now() > deadline) throw new PlatformVerificationError(`instance "${r.instanceId}" did not reach ${what} within ${recoveryTimeoutMs / 1000} s`);
      await sleep(250);
    }
  }

  async function promote(r: InstanceRecord, opts: OperationOptions, how: 'resume' | 'promote'): Promise<void> {
    opts.onProgress?.({ phase: 'promoting' });
    await withClient(r, (c) => c.query(how === 'resume' ? 'SELECT pg_wal_replay_resume()' : 'SELECT pg_promote(true, 60)'));
    await waitForRecovery(r, (s) => !s.in_recovery, opts, 'promotion');
  }

  async function finish(instanceId: InstanceId, extra: Partial<InstanceRecord> = {}): Promise<InstanceRecord> {
    return (await registry.update(instanceId, (current) => current && { ...current, ...extra, status: 'available', operationPgid: undefined }))!;
  }

  /**
   * Reads where recovery actually stopped (the instance is paused at its target) and fails unless it
   * is the requested target: pgbackrest#1582 saw "time" restores silently replay to the end of WAL.
   */
  async function verifyRecoveryPoint(r: InstanceRecord, target: RecoveryTarget): Promise<{ recoveredTo: RecoveryPoint; dataLossWindowSeconds?: number }> {
    const stop = recoveryStopLines(path.join(r.dir, 'postgres.log')).at(-1);
    const stopReason = stop ? stop.replace(/^.*?(recovery stopping)/, '$1') : undefined;
    return withClient(r, async (c) => {
      const point = (await c.query<{ last_commit: string | null; lsn: string }>(`SELECT to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS last_commit, pg_last_wal_replay_lsn()::text AS lsn`)).rows[0]!;
      const recoveredTo: RecoveryPoint = { lastCommitAt: point.last_commit ?? undefined, lsn: point.lsn, stopReason };
      const fail = (why: string) => new PlatformVerificationError(`point-in-time restore "${r.instanceId}" did not stop at its target ${JSON.stringify(target)}: ${why} (recovered to ${JSON.stringify(recoveredTo)}); the instance is removed`);
      if (target.kind === 'name') {
        if (!stopReason?.includes(`at restore point "${target.name}"`)) throw fail(`PostgreSQL did not report stopping at restore point "${target.name}"`);
        return { recoveredTo };
      }
      if (target.kind !== 'time') return { recoveredTo };
      const stopTime = /time (\d{4}-\d\d-\d\d [\d:.]+[+-]\d\d(?::?\d\d)?)/.exec(stopReason ?? '')?.[1];
      if (!stopReason || !stopTime) throw fail('PostgreSQL did not report stopping at a commit past the target');
      const check = (await c.query<{ commit_ok: boolean | null; stop_ok: boolean; window_s: number | null }>(
        `SELECT pg_last_xact_replay_timestamp() <= $1::timestamptz AS commit_ok,
                CASE WHEN $3 THEN $2::timestamptz > $1::timestamptz ELSE $2::timestamptz <= $1::timestamptz END AS stop_ok,
                extract(epoch FROM $1::timestamptz - pg_last_xact_replay_timestamp())::float8 AS window_s`,
        [target.time, stopTime, stopReason.includes('stopping before')],
      )).rows[0]!;
      if (check.commit_ok === false) throw fail('it holds commits made after the target');
      if (!check.stop_ok) throw fail(`PostgreSQL stopped at a commit at ${stopTime}, on the wrong side of the target`);
      return { recoveredTo, dataLossWindowSeconds: check.window_s ?? undefined };
    });
  }

  /**
   * Makes sure the archive holds every commit up to now and a commit after any target before now
   * (PostgreSQL stops a time target only at a commit record), and returns the time up to which WAL
   * is archived. With the source down, the newest archived segment's time is the best we know.
   */
  async function sealArchive(source: InstanceRecord, opts: OperationOptions): Promise<{ archivedUntil: Date; how: string }> {
    opts.onProgress?.({ phase: 'checking', message: 'switching WAL and waiting for it to be archived' });
    if (await accepting(source)) {
      const sealedAt = await withClient(source, async (c) => {
        // An empty transaction: one commit record stamped after every commit made so far.
        const row = (await c.query<{ t: Date }>('SELECT clock_timestamp() AS t, pg_catalog.txid_current()')).rows[0]!;
        return row.t;
      });
      await runPgBackRest(setup, 'check', [], { signal: opts.signal });
      return { archivedUntil: sealedAt, how: `WAL switched and archived by pgbackrest check at ${sealedAt.toISOString()}` };
    }
    const newest = newestFileTime(path.join(setup.repoPath, 'archive', setup.stanza));
    if (!newest) throw new PlatformRequestError(`the WAL archive of stanza "${setup.stanza}" is empty`);
    return { archivedUntil: newest, how: `source is down; newest archived WAL segment written at ${newest.toISOString()}` };
  }

  const backupReady = (b: BackupSet) => Date.parse(b.stoppedAt) + 1000; // timestamps are whole seconds

  async function chooseBackup(source: InstanceRecord, target: RecoveryTarget, opts: OperationOptions): Promise<BackupSet> {
    const { backups } = await stanzaInfo(setup, opts.signal);
    if (backups.length === 0) throw new PlatformRequestError(`stanza "${setup.stanza}" has no backup yet: take a backup of "${source.instanceId}" first`);
    if (target.kind === 'latest') return backups.at(-1)!;
    if (target.kind === 'name') {
      // A point we created is placed in time: the newest backup before it. Any other name: the oldest backup.
      const point = restorePoints()[target.name];
      if (!point) return backups[0]!;
      const before = [...backups].reverse().find((b) => backupReady(b) <= Date.parse(point.createdAt));
      if (!before) throw new PlatformRequestError(`restore point "${target.name}" (${point.createdAt}) is before the oldest backup set ${backups[0]!.label} (finished ${backups[0]!.stoppedAt}); nothing was created`);
      return before;
    }
    const t = Date.parse(target.time);
    const oldest = backups[0]!;
    if (t < backupReady(oldest)) {
      throw new PlatformRequestError(`recovery target ${target.time} is before the oldest backup: backup set ${oldest.label} finished at ${oldest.stoppedAt}, so the earliest time a restore can reach is ${new Date(backupReady(oldest)).toISOString()}; nothing was created`);
    }
    const { archivedUntil, how } = await sealArchive(source, opts);
    if (t >= archivedUntil.getTime()) {
      throw new PlatformRequestError(`recovery target ${target.time} is after the newest archived WAL (${how}): no archived WAL reaches it yet; choose an earlier time or wait; nothing was created`);
    }
    return [...backups].reverse().find((b) => backupReady(b) <= t)!;
  }

  function validateTarget(target: RecoveryTarget): RecoveryTarget {
    if (target.kind === 'time') {
      if (!/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d(:?\d\d)?)$/.test(target.time) || Number.isNaN(Date.parse(target.time))) {
        throw new PlatformRequestError(`target.time "${target.time}" is not an ISO 8601 time with a zone (e.g. 2026-11-23T13:55:00Z)`);
      }
      return { kind: 'time', time: new Date(Date.parse(target.time)).toISOString() };
    }
    if (target.kind === 'name' && !/^[\w.:-]{1,63}$/.test(target.name)) throw new PlatformRequestError(`target.name "${target.name}" is not a restore point name (1-63 of letters, digits, _ . : -)`);
    return target;
  }

  return {
    async describeInstance(instanceId) {
      return describe(record(instanceId));
    },

    async listBackups(sourceInstanceId) {
      stanzaPrimary(sourceInstanceId);
      return (await stanzaInfo(setup)).backups;
    },

    async takeBackup(input, opts = {}) {
      const source = stanzaPrimary(input.sourceInstanceId);
      if (!(await accepting(source))) throw new PlatformRequestError(`instance "${source.instanceId}" is not accepting connections: a backup needs it running`);
      const before = new Set((await stanzaInfo(setup, opts.signal)).backups.map((b) => b.label));
      opts.onProgress?.({ phase: 'backing-up', message: `pgbackrest backup --type=${input.type}` });
      await runPgBackRest(setup, 'backup', [`--type=${input.type}`, `--process-max=${setup.processMax}`], { signal: opts.signal });
      const made = (await stanzaInfo(setup, opts.signal)).backups.filter((b) => !before.has(b.label)).at(-1);
      if (!made) throw new PlatformVerificationError('pgbackrest backup succeeded but no new backup set is listed by pgbackrest info');
      return made;
    },

    async verifyBackups(sourceInstanceId, opts = {}) {
      stanzaPrimary(sourceInstanceId);
      opts.onProgress?.({ phase: 'verifying', message: 'pgbackrest verify' });
      const run = await runPgBackRest(setup, 'verify', ['--output=text', '--verbose', `--process-max=${setup.processMax}`], { signal: opts.signal }).then(
        (result) => ({ ok: true, report: result.stdout }),
        (error: unknown) => {
          if (error instanceof CommandFailedError) return { ok: false, report: error.stderr || error.message };
          throw error;
        },
      );
      return { stanza: setup.stanza, ok: run.ok && !/status: error/.test(run.report), report: run.report.trim() };
    },

    async createRestorePoint(input, opts = {}) {
      const source = stanzaPrimary(input.sourceInstanceId);
      if (!/^[\w.:-]{1,63}$/.test(input.name)) throw new PlatformRequestError(`restore point name "${input.name}" is not valid (1-63 of letters, digits, _ . : -)`);
      const known = restorePoints()[input.name];
      if (known) return known;
      if (!(await accepting(source))) throw new PlatformRequestError(`instance "${source.instanceId}" is not accepting connections: a restore point is written by the running primary`);
      const point = await withClient(source, async (c) => {
        const row = (await c.query<{ lsn: string; at: Date }>('SELECT pg_create_restore_point($1)::text AS lsn, clock_timestamp() AS at', [input.name])).rows[0]!;
        return { sourceInstanceId: source.instanceId, name: input.name, lsn: row.lsn, createdAt: row.at.toISOString() };
      });
      const tmp = `${restorePointsFile}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ ...restorePoints(), [input.name]: point }, null, 2) + '\n');
      renameSync(tmp, restorePointsFile);
      // Archive the segment holding it now, so a restore to it can start at once.
      opts.onProgress?.({ phase: 'checking', message: 'archiving the WAL that holds the restore point' });
      await runPgBackRest(setup, 'check', [], { signal: opts.signal });
      return point;
    },

    async restoreBackupToNewInstance(input, opts = {}) {
      assertInstanceId(input.instanceId);
      const source = stanzaPrimary(input.sourceInstanceId);
      const { backups } = await stanzaInfo(setup, opts.signal);
      const backup = input.backupLabel ? backups.find((b) => b.label === input.backupLabel) : backups.at(-1);
      if (!backup) throw new PlatformRequestError(input.backupLabel ? `backup set "${input.backupLabel}" is not in stanza "${setup.stanza}" (have: ${backups.map((b) => b.label).join(', ') || 'none'})` : `stanza "${setup.stanza}" has no backup yet`);
      const origin: InstanceOrigin = { kind: 'backup', sourceInstanceId: source.instanceId, backupLabel: backup.label };
      const existing = await existingFor(input.instanceId, (o) => o.kind === 'backup' && o.sourceInstanceId === source.instanceId && (!input.backupLabel || o.backupLabel === input.backupLabel));
      if (existing) return { instance: await describe(existing), backupLabel: (existing.origin as { backupLabel: string }).backupLabel, reused: true };
      return building(input.instanceId, opts, async (o) => {
        const { r } = await build(input.instanceId, source, { kind: 'backup', backup }, origin, o);
        await waitForRecovery(r, (s) => !s.in_recovery, o, 'the end of recovery');
        const done = await finish(input.instanceId);
        return { instance: await describe(done), backupLabel: backup.label, reused: false };
      });
    },

    async restoreToPointInTime(input, opts = {}): Promise<PointInTimeRestoreResult> {
      assertInstanceId(input.instanceId);
      const target = validateTarget(input.target);
      const source = stanzaPrimary(input.sourceInstanceId);
      const existing = await existingFor(input.instanceId, (o) => o.kind === 'pointInTime' && o.sourceInstanceId === source.instanceId && JSON.stringify(o.target) === JSON.stringify(target));
      if (existing) {
        const saved = existing.recovery ?? { recoveredTo: { lsn: '' } };
        return { instance: await describe(existing), backupLabel: (existing.origin as { backupLabel: string }).backupLabel, reused: true, target, ...saved };
      }
      // Everything that can refuse the request runs before anything is created.
      const backup = await chooseBackup(source, target, opts);
      if (target.kind !== 'time') await sealArchive(source, opts).catch(() => undefined);
      const origin: InstanceOrigin = { kind: 'pointInTime', sourceInstanceId: source.instanceId, backupLabel: backup.label, target };
      return building(input.instanceId, opts, async (o) => {
        const { r } = await build(input.instanceId, source, { kind: 'pointInTime', backup, target }, origin, o);
        let recovery: { recoveredTo: RecoveryPoint; dataLossWindowSeconds?: number };
        if (target.kind === 'latest') {
          await waitForRecovery(r, (s) => !s.in_recovery, o, 'the end of the archived WAL');
          recovery = await verifyRecoveryPoint(r, target);
        } else {
          const paused = await waitForRecovery(r, (s) => !s.in_recovery || s.pause_state === 'paused', o, 'the recovery target');
          if (!paused.in_recovery) throw new PlatformVerificationError(`point-in-time restore "${input.instanceId}" ended recovery without pausing at its target ${JSON.stringify(target)} (it went to the end of WAL: pgbackrest#1582); the instance is removed`);
          o.onProgress?.({ phase: 'verifying', replayLsn: paused.replay_lsn ?? undefined });
          recovery = await verifyRecoveryPoint(r, target);
          await promote(r, o, 'resume');
        }
        const done = await finish(input.instanceId, { recovery });
        return { instance: await describe(done), backupLabel: backup.label, reused: false, target, ...recovery };
      });
    },

    async createReplica(input, opts = {}) {
      assertInstanceId(input.instanceId);
      const source = stanzaPrimary(input.sourceInstanceId);
      const existing = await existingFor(input.instanceId, (o) => o.kind === 'replica' && o.sourceInstanceId === source.instanceId);
      if (existing) return { instance: await describe(existing), backupLabel: (existing.origin as { backupLabel: string }).backupLabel, reused: true };
      const backup = (await stanzaInfo(setup, opts.signal)).backups.at(-1);
      if (!backup) throw new PlatformRequestError(`stanza "${setup.stanza}" has no backup yet: a replica is built from the newest backup; take one first`);
      const origin: InstanceOrigin = { kind: 'replica', sourceInstanceId: source.instanceId, backupLabel: backup.label };
      return building(input.instanceId, opts, async (o) => {
        const { r } = await build(input.instanceId, source, { kind: 'replica', backup }, origin, o);
        const deadline = Date.now() + recoveryTimeoutMs;
        while (!(await describe(r)).replication?.streaming) {
          if (o.signal?.aborted) throw new CommandAbortedError('cancelled while waiting for the replica to stream');
          if (Date.now() > deadline) throw new PlatformVerificationError(`replica "${input.instanceId}" did not start streaming from "${source.instanceId}"; its log ends with:\n${logTail(path.join(r.dir, 'postgres.log'))}`);
          o.onProgress?.({ phase: 'replaying', message: 'waiting for streaming replication' });
          await sleep(250);
        }
        const done = await finish(input.instanceId);
        return { instance: await describe(done), backupLabel: backup.label, reused: false };
      });
    },

    async promoteReplica(instanceId, opts = {}) {
      const r = record(instanceId);
      if (r.status !== 'available') throw new PlatformRequestError(`instance "${instanceId}" is ${r.status}, not available: it cannot be promoted`);
      if (!(await accepting(r))) throw new PlatformRequestError(`instance "${instanceId}" is not accepting connections`);
      const state = await recoveryState(r);
      if (state.in_recovery) await promote(r, opts, state.pause_state === 'paused' ? 'resume' : 'promote');
      return describe((await registry.update(instanceId, (current) => current && { ...current, role: 'primary' }))!);
    },

    async deleteInstance(instanceId, opts = {}) {
      const r = registry.get(instanceId);
      if (!r) return { deleted: false };
      if (r.protected) throw new PlatformRequestError(`instance "${instanceId}" is protected (it is the enrolled ${r.stanza ? `primary of stanza "${r.stanza}"` : 'instance'}): a runbook never deletes it`);
      opts.onProgress?.({ phase: 'stopping' });
      await registry.update(instanceId, (current) => current && { ...current, status: 'deleting' });
      await stopPostmaster(dataDirOf(r.dir), 'fast');
      await discard(r);
      return { deleted: true };
    },

    async waitUntilAvailable(instanceId, opts = {}) {
      const deadline = Date.now() + (opts.timeoutMs ?? 5 * 60_000);
      await startIfStopped(record(instanceId));
      for (;;) {
        const description = await describe(record(instanceId));
        if (description.status === 'available' && description.acceptingConnections) return description;
        if (opts.signal?.aborted) throw new CommandAbortedError(`cancelled while waiting for "${instanceId}"`);
        if (Date.now() > deadline) throw new PlatformVerificationError(`instance "${instanceId}" is not available after ${(opts.timeoutMs ?? 300_000) / 1000} s (status ${description.status}, accepting connections: ${description.acceptingConnections})`);
        await sleep(500);
      }
    },

    connectionFor(instanceId): InstanceConnection | undefined {
      const r = registry.get(instanceId);
      if (!r) return undefined;
      return { host: '127.0.0.1', port: r.port, database: r.database, user: superuser, password: passwordOf(r) };
    },
  };
}

/**
 * Stops every running cluster of the platform except the enrolled ones (their owner stops them),
 * and any pgBackRest command still building one. Instances stay registered; their data stays on disk.
 */
export async function stopPlatformInstances(options: LocalPlatformOptions): Promise<void> {
  const registry = new InstanceRegistry(path.join(options.stateDir, 'instances.json'));
  for (const r of registry.all()) {
    if (r.protected) continue;
    if (r.operationPgid && processGroupRuns(r.operationPgid, r.dir)) killProcessGroup(r.operationPgid);
    await stopPostmaster(dataDirOf(r.dir), 'fast');
  }
}
