import type { RdsEndpointResolver, RdsInstanceFacts } from '../../activities/adapters/aws';
import type { DatabasePlatform, RecoveryTarget } from '../../activities/ports/database-platform';

/**
 * moto keeps RDS's records but runs no database: this resolver makes a real local PostgreSQL answer for a
 * moto instance's endpoint, built by the local platform (pgBackRest) for the same operation, from the
 * instance's own tags: a point-in-time restore to the same target, a restore of the newest backup, a
 * streaming replica; a promotion when the instance is tagged promoted. Enrolled instances map to the
 * local instance of the same id. `unreachable` instances answer nowhere (a database still starting).
 */
export function localTwinResolver(local: DatabasePlatform, options: { unreachable?: Set<string>; enrolled?: Record<string, string> } = {}): RdsEndpointResolver & { built: string[] } {
  const building = new Map<string, Promise<void>>();
  const built: string[] = [];

  async function twin(facts: RdsInstanceFacts): Promise<void> {
    const tags = facts.tags;
    const id = facts.instanceId;
    if (tags['dr-runbooks:created-by'] === 'dr-runbooks' && !(await local.connectionFor(id))) {
      const source = tags['dr-runbooks:source']!;
      const origin = tags['dr-runbooks:origin'];
      // The time RDS was asked for (a named target is RDS's tag on the source, unknown to the local platform).
      const restoreTime = tags['dr-runbooks:restore-time'];
      if (origin === 'pointInTime') await local.restoreToPointInTime({ instanceId: id, sourceInstanceId: source, target: restoreTime ? { kind: 'time', time: restoreTime } : targetOf(tags['dr-runbooks:recovery-target']!) });
      else if (origin === 'backup') await local.restoreBackupToNewInstance({ instanceId: id, sourceInstanceId: source });
      else if (origin === 'replica') await local.createReplica({ instanceId: id, sourceInstanceId: source });
      built.push(id);
    }
    if (tags['dr-runbooks:promoted-at'] && (await local.describeInstance(id)).role === 'replica') await local.promoteReplica(id);
  }

  const resolve: RdsEndpointResolver = async (facts) => {
    if (options.unreachable?.has(facts.instanceId)) return { host: '127.0.0.1', port: 1 };
    const localId = options.enrolled?.[facts.instanceId] ?? facts.instanceId;
    if (localId === facts.instanceId) {
      const previous = building.get(facts.instanceId) ?? Promise.resolve();
      const next = previous.then(() => twin(facts));
      building.set(facts.instanceId, next.catch(() => undefined));
      await next;
    }
    const connection = await local.connectionFor(localId);
    return connection && { host: connection.host, port: connection.port };
  };
  return Object.assign(resolve, { built });
}

function targetOf(tag: string): RecoveryTarget {
  if (tag === 'latest') return { kind: 'latest' };
  if (tag.startsWith('time:')) return { kind: 'time', time: tag.slice(5) };
  return { kind: 'name', name: tag.slice(5) };
}
