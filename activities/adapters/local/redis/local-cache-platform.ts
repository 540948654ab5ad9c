import { sleep, tailOf } from '../../../../lib/child-process';
import type { CachePlatform } from '../../../ports/cache-platform';
import { PlatformRequestError, PlatformVerificationError } from '../../../ports/database-platform';
import { backupOf, listBackups } from './backup-objects';
import { backupKinds, takeBackup } from './backup-taking';
import { cacheContext, passwordOf, recordOf, type LocalCachePlatformOptions } from './cache-context';
import { describeRecord, discard, startIfStopped } from './cache-instances';
import { restoreSessionExport, restoreToNewInstance } from './cache-restore';
import { verifyInstance } from './cache-verification';
import { logFileOf } from './redis-server';

export type { LocalCachePlatformOptions } from './cache-context';
export { enrolCacheInstance, removeCacheLeftovers, stopCacheInstances } from './cache-instances';

/** The local CachePlatform: redis-server 7 instances on loopback ports, backups in the object store. */
export function createLocalCachePlatform(options: LocalCachePlatformOptions): CachePlatform {
  const ctx = cacheContext(options);
  const { registry } = ctx;
  const record = (instanceId: string) => recordOf(ctx, instanceId);

  return {
    backupKinds,

    async describeInstance(instanceId) {
      return describeRecord(record(instanceId));
    },

    takeBackup: (input, opts = {}) => takeBackup(ctx, input, opts),

    listBackups: (sourceInstanceId) => listBackups(ctx, sourceInstanceId),

    describeBackup: (backupId) => backupOf(ctx, backupId),

    restoreBackupToNewInstance: (input, opts = {}) => restoreToNewInstance(ctx, input, opts),

    verifyInstance: (input, opts = {}) => verifyInstance(ctx, input, opts),

    restoreSessions: (input, opts = {}) => restoreSessionExport(ctx, input, opts),

    async deleteInstance(instanceId, opts = {}) {
      const r = registry.get(instanceId);
      if (!r) return { deleted: false };
      if (r.protected) throw new PlatformRequestError(`cache instance "${instanceId}" is protected (it is an enrolled instance): a runbook never deletes it`);
      opts.onProgress?.({ phase: 'stopping' });
      await discard(ctx, r);
      return { deleted: true };
    },

    async waitUntilAvailable(instanceId, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? 5 * 60_000;
      const deadline = Date.now() + timeoutMs;
      await startIfStopped(ctx, record(instanceId), opts);
      for (;;) {
        const r = record(instanceId);
        const description = await describeRecord(r);
        if (description.status === 'available' && description.acceptingConnections) return description;
        opts.signal?.throwIfAborted();
        if (Date.now() > deadline) {
          throw new PlatformVerificationError(`cache instance "${instanceId}" is not available after ${timeoutMs / 1000} s (status ${description.status}, accepting connections: ${description.acceptingConnections})${r.dir ? `; its log ends with:\n${tailOf(logFileOf(r.dir))}` : ''}`);
        }
        await sleep(250);
      }
    },

    async connectionFor(instanceId) {
      const r = registry.get(instanceId);
      if (!r) return undefined;
      return { host: '127.0.0.1', port: r.port, tls: false, password: passwordOf(r) };
    },
  };
}
