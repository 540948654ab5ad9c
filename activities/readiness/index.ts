import { statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { RecoveredSystem } from '../../contracts/runbook-plan';
import { durationToMs } from '../../contracts/durations';
import { withHeartbeat } from '../activity-context';
import type { DatabaseConnections } from '../database-connections';
import { newestCacheBackup } from '../cache-activities';
import { newestFileBackup } from '../file-activities';
import type { CachePlatform } from '../ports/cache-platform';
import type { DatabasePlatform } from '../ports/database-platform';
import type { FileBackup } from '../ports/file-backup';
import type { ObjectStore } from '../ports/object-store';
import type { SecretStore } from '../ports/secret-store';

/** One line of seed 002's pre-recovery checklist. A blocking one that fails stops the recovery before anything is built. */
export interface ReadinessCheck {
  id: string;
  system: RecoveredSystem | 'storage' | 'keys' | 'resources' | 'connectivity';
  passed: boolean;
  blocking: boolean;
  detail: string;
}

/**
 * The backups one recovery restores, chosen once: the newest of each part taken at or before `asOf`, so
 * every part restores what was checked here and a backup finishing during the recovery does not mix in.
 */
export interface BackupGeneration {
  asOf: string;
  database?: { database: string; backupLabel: string; stoppedAt: string; ageSeconds: number; sizeBytes: number };
  cache?: { cache: string; kind: 'rdb' | 'aof'; backupId: string; takenAt: string; ageSeconds: number; totalBytes: number };
  sessions?: { backupId: string; takenAt: string; ageSeconds: number; totalBytes: number };
  files?: Record<string, { backupId: string; takenAt: string; ageSeconds: number; totalBytes: number; keyId: string }>;
}

export interface Readiness {
  checkedAt: string;
  /** No blocking check failed. */
  ready: boolean;
  checks: ReadinessCheck[];
  generation: BackupGeneration;
}

export interface ReadinessInput {
  database?: string;
  cache?: { instance: string; kind: 'rdb' | 'aof'; sessions: boolean };
  files?: { archives?: string[] };
  /** The generation: the newest backups at or before this time (default: now). */
  asOf?: string;
  /** What backup ages are measured against (the failure time; default now). */
  at?: string;
}

export interface ReadinessWiring {
  databasePlatform: DatabasePlatform;
  cachePlatform: CachePlatform;
  fileBackup: FileBackup;
  objectStore: ObjectStore;
  secrets: SecretStore;
  databases: Pick<DatabaseConnections, 'connection'>;
  /** Each system's RPO (config objectives.systems), what backup ages are judged against. */
  rpo: Record<RecoveredSystem, string>;
  /** Where restores write on this machine (the wiring point's list), for the free-space check. */
  storageLocations: Array<{ name: string; path: string }>;
  /** Free memory below this is a warning. Default 512 MiB. */
  minimumFreeMemoryBytes?: number;
}

const errorOf = (error: unknown) => (error as Error).message.split('\n')[0]!;
const ageText = (seconds: number) => (seconds < 120 ? `${Math.round(seconds)} s` : seconds < 7200 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds / 360) / 10} h`);
const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

/** The directory itself, or the nearest parent that exists (a restore creates what is missing below it). */
function existingAncestor(p: string): string {
  let dir = path.resolve(p);
  for (;;) {
    try {
      statSync(dir);
      return dir;
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) return dir;
      dir = parent;
    }
  }
}

/**
 * Seed 002's pre-recovery checklist as one activity: backups present (and fresh against each part's
 * RPO), storage space where restores write, connectivity to the platforms and the backup storage, the
 * encryption keys and database secrets resolvable, CPU and memory. Reads only; changes nothing.
 */
export function createReadinessActivities(w: ReadinessWiring) {
  return {
    async verifyReadiness(input: ReadinessInput): Promise<Readiness> {
      const signal = Context.current().cancellationSignal;
      return withHeartbeat(async (beat) => {
        const checks: ReadinessCheck[] = [];
        const add = (check: ReadinessCheck) => { checks.push(check); beat({ checked: checks.length, last: check.id }); };
        const now = Date.now();
        const at = input.at ? Date.parse(input.at) : now;
        const asOf = input.asOf ?? new Date(now).toISOString();
        const generation: BackupGeneration = { asOf };
        const ageOf = (time: string) => Math.max(0, Math.round((at - Date.parse(time)) / 1000));
        const fresh = (system: RecoveredSystem, id: string, what: string, time: string) => {
          const age = ageOf(time);
          const rpoSeconds = durationToMs(w.rpo[system]) / 1000;
          add({ id, system, passed: age <= rpoSeconds, blocking: false, detail: `${what} is ${ageText(age)} old ${age <= rpoSeconds ? 'within' : 'BEYOND'} the ${system} RPO of ${ageText(rpoSeconds)}${age <= rpoSeconds ? '' : ': the recovery will lose more than the objective allows'}` });
        };
        const needs = new Map<string, number>();
        const need = (location: string, bytes: number) => {
          const found = w.storageLocations.find((l) => l.name === location || l.name.startsWith(`${location} `));
          if (found) needs.set(found.name, (needs.get(found.name) ?? 0) + bytes);
        };

        // 1. Backup system status: each part's newest backup, the generation.
        if (input.database) {
          try {
            const limit = Date.parse(asOf);
            const backup = (await w.databasePlatform.listBackups(input.database)).filter((b) => Date.parse(b.stoppedAt) <= limit).at(-1);
            if (!backup) add({ id: 'database-backup', system: 'database', passed: false, blocking: true, detail: `${input.database} has no backup set finished at or before ${asOf}` });
            else {
              generation.database = { database: input.database, backupLabel: backup.label, stoppedAt: backup.stoppedAt, ageSeconds: ageOf(backup.stoppedAt), sizeBytes: backup.sizeBytes };
              add({ id: 'database-backup', system: 'database', passed: true, blocking: true, detail: `backup set ${backup.label} (${backup.type}, ${mib(backup.sizeBytes)}) finished ${ageText(ageOf(backup.stoppedAt))} before; the archived WAL after it is replayed, so the RPO is measured from the restored instance's newest commit` });
              need('database platform', backup.sizeBytes);
            }
          } catch (error) {
            add({ id: 'database-backup', system: 'database', passed: false, blocking: true, detail: `the database platform's backups cannot be listed: ${errorOf(error)}` });
          }
        }
        signal.throwIfAborted();
        if (input.cache) {
          try {
            const backups = await w.cachePlatform.listBackups(input.cache.instance);
            const main = newestCacheBackup(backups, input.cache.kind, asOf);
            if (!main) add({ id: 'cache-backup', system: 'cache', passed: false, blocking: true, detail: `cache "${input.cache.instance}" has no ${input.cache.kind} backup taken at or before ${asOf}` });
            else {
              generation.cache = { cache: input.cache.instance, kind: input.cache.kind, backupId: main.backupId, takenAt: main.takenAt, ageSeconds: ageOf(main.takenAt), totalBytes: main.totalBytes };
              add({ id: 'cache-backup', system: 'cache', passed: true, blocking: true, detail: `${main.kind} backup ${main.backupId} (${main.keyspace.reduce((s, k) => s + k.keys, 0)} keys)` });
              fresh('cache', 'cache-backup-fresh', `${main.kind} backup ${main.backupId}`, main.takenAt);
              need('cache platform', main.totalBytes);
            }
            if (input.cache.sessions) {
              const sessions = newestCacheBackup(backups, 'sessions', asOf);
              if (!sessions) add({ id: 'sessions-backup', system: 'cache', passed: false, blocking: false, detail: `cache "${input.cache.instance}" has no session export at or before ${asOf}: the sessions come from the ${input.cache.kind} backup alone` });
              else {
                generation.sessions = { backupId: sessions.backupId, takenAt: sessions.takenAt, ageSeconds: ageOf(sessions.takenAt), totalBytes: sessions.totalBytes };
                fresh('cache', 'sessions-backup-fresh', `session export ${sessions.backupId} (${sessions.sessions?.exported ?? 0} sessions)`, sessions.takenAt);
              }
            }
          } catch (error) {
            add({ id: 'cache-backup', system: 'cache', passed: false, blocking: true, detail: `the cache platform's backups cannot be listed: ${errorOf(error)}` });
          }
        }
        signal.throwIfAborted();
        if (input.files) {
          generation.files = {};
          try {
            const configured = w.fileBackup.archiveKinds;
            if (!Array.isArray(configured)) throw new Error('they are not configured: add `files` to the worker config');
            const kinds = input.files.archives?.length ? input.files.archives : [...configured];
            for (const kind of kinds) {
              const backup = newestFileBackup(await w.fileBackup.listBackups(kind), asOf);
              if (!backup) { add({ id: `files-backup-${kind}`, system: 'files', passed: false, blocking: true, detail: `archive kind ${kind} has no backup finished at or before ${asOf}` }); continue; }
              generation.files[kind] = { backupId: backup.backupId, takenAt: backup.takenAt, ageSeconds: ageOf(backup.takenAt), totalBytes: backup.totalBytes, keyId: backup.keyId };
              add({ id: `files-backup-${kind}`, system: 'files', passed: true, blocking: true, detail: `${kind} backup ${backup.backupId} (${backup.fileCount} files, ${mib(backup.totalBytes)})` });
              fresh('files', `files-backup-fresh-${kind}`, `${kind} backup ${backup.backupId}`, backup.takenAt);
              // The staged copy beside the target, and the previous copy kept until the restore is confirmed.
              need(kind, 2 * backup.totalBytes);
            }
          } catch (error) {
            add({ id: 'files-backup', system: 'files', passed: false, blocking: true, detail: `the file backups cannot be listed: ${errorOf(error)}` });
          }
        }
        signal.throwIfAborted();

        // 2. Connectivity: the object store the reports and cache backups live in.
        try {
          await w.objectStore.list('reports/');
          add({ id: 'object-store', system: 'connectivity', passed: true, blocking: true, detail: 'the object store (backups metadata, reports) answers' });
        } catch (error) {
          add({ id: 'object-store', system: 'connectivity', passed: false, blocking: true, detail: `the object store does not answer: ${errorOf(error)}` });
        }

        // 3. Storage space where the restores write, summed per file system.
        const perDevice = new Map<number, { free: number; needed: number; names: string[] }>();
        for (const location of w.storageLocations) {
          try {
            const dir = existingAncestor(location.path);
            const fs = await statfs(dir);
            const dev = statSync(dir).dev;
            const entry = perDevice.get(dev) ?? { free: fs.bavail * fs.bsize, needed: 0, names: [] };
            entry.needed += needs.get(location.name) ?? 0;
            entry.names.push(location.name);
            perDevice.set(dev, entry);
          } catch (error) {
            add({ id: 'storage', system: 'storage', passed: false, blocking: true, detail: `${location.name}: ${errorOf(error)}` });
          }
        }
        for (const { free, needed, names } of perDevice.values()) {
          add({ id: 'storage', system: 'storage', passed: free >= needed, blocking: true, detail: `${mib(free)} free for ${names.join(', ')}; the restores need about ${mib(needed)}` });
        }

        // 4. Keys: every encryption key the chosen archives are sealed with, and the database's secret.
        for (const keyId of new Set(Object.values(generation.files ?? {}).map((f) => f.keyId))) {
          try {
            const key = Buffer.from((await w.secrets.read(keyId)).value.trim(), 'base64');
            add({ id: `key-${keyId}`, system: 'keys', passed: key.length === 32, blocking: true, detail: key.length === 32 ? `encryption key "${keyId}" resolves (32 bytes)` : `encryption key "${keyId}" is ${key.length} bytes, AES-256-GCM needs 32` });
          } catch (error) {
            add({ id: `key-${keyId}`, system: 'keys', passed: false, blocking: true, detail: `encryption key "${keyId}" does not resolve: ${errorOf(error)}` });
          }
        }
        if (input.database) {
          try {
            await (await w.databases.connection(input.database)).password();
            add({ id: 'database-secret', system: 'keys', passed: true, blocking: true, detail: `the credentials of ${input.database} resolve` });
          } catch (error) {
            add({ id: 'database-secret', system: 'keys', passed: false, blocking: true, detail: `the credentials of ${input.database} do not resolve: ${errorOf(error)}` });
          }
        }

        // 5. Resources: CPU and memory of the worker's machine (a warning: restores still run, slower).
        const free = os.freemem();
        const minimum = w.minimumFreeMemoryBytes ?? 512 * 1024 * 1024;
        const load = os.loadavg()[0]!;
        const cores = os.cpus().length;
        add({ id: 'resources', system: 'resources', passed: free >= minimum && load < cores * 2, blocking: false, detail: `${mib(free)} memory free, load ${load.toFixed(1)} on ${cores} cores` });

        return { checkedAt: new Date().toISOString(), ready: checks.every((c) => c.passed || !c.blocking), checks, generation };
      }, { initial: { phase: 'checking' } });
    },
  };
}

export type ReadinessActivities = ReturnType<typeof createReadinessActivities>;
