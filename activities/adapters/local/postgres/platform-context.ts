import path from 'node:path';
import { createBuildTracker } from '../../../../lib/build-tracker';
import { PlatformRequestError, type InstanceId } from '../../../ports/database-platform';
import type { InstanceRegistry, InstanceRecord } from './instance-registry';
import type { PgBackRestSetup } from './pgbackrest';
import { pgBackRestSetupOf, registryOf, type LocalPlatformOptions } from './stanza';

/** What the local platform's parts share: where things are, and the operations this worker is running. */
export interface PlatformContext {
  setup: PgBackRestSetup;
  registry: InstanceRegistry;
  instancesDir: string;
  restorePointsFile: string;
  recoveryTimeoutMs: number;
  /** Builds this worker is running, so a retry in the same process stops the earlier attempt first. */
  builds: ReturnType<typeof createBuildTracker>;
}

export function platformContext(options: LocalPlatformOptions): PlatformContext {
  return {
    setup: pgBackRestSetupOf(options),
    registry: registryOf(options),
    instancesDir: path.join(options.stateDir, 'instances'),
    restorePointsFile: path.join(options.stateDir, 'restore-points.json'),
    recoveryTimeoutMs: options.recoveryTimeoutMs ?? 30 * 60_000,
    builds: createBuildTracker(),
  };
}

export function recordOf(ctx: PlatformContext, instanceId: InstanceId): InstanceRecord {
  const found = ctx.registry.get(instanceId);
  if (!found) throw new PlatformRequestError(`instance "${instanceId}" does not exist (known: ${ctx.registry.all().map((r) => r.instanceId).join(', ') || 'none'})`);
  return found;
}

/** The instance whose WAL and backups go to the stanza: the only one a backup or restore starts from. */
export function stanzaPrimaryOf(ctx: PlatformContext, sourceInstanceId: InstanceId): InstanceRecord {
  const source = recordOf(ctx, sourceInstanceId);
  if (source.stanza !== ctx.setup.stanza) {
    throw new PlatformRequestError(`instance "${sourceInstanceId}" has no backups: only the stanza "${ctx.setup.stanza}" primary (${ctx.registry.all().filter((r) => r.stanza === ctx.setup.stanza).map((r) => r.instanceId).join(', ') || 'none enrolled'}) is backed up`);
  }
  return source;
}
