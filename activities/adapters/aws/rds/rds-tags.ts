import type { Tag } from '@aws-sdk/client-rds';
import type { InstanceOrigin, OperationRequester, RecoveryTarget } from '../../../ports/database-platform';

// The tags dr-runbooks puts on what it builds in RDS: who built it and for which run (so an operator sees
// it in the console, and a cost report can find it), and how it was built (so a retry can tell whether
// the instance under its id is what it asked for). Pure.

export const tagKeys = {
  createdBy: 'dr-runbooks:created-by',
  workflowId: 'dr-runbooks:workflow-id',
  incidentId: 'dr-runbooks:incident-id',
  origin: 'dr-runbooks:origin',
  source: 'dr-runbooks:source',
  backup: 'dr-runbooks:backup',
  recoveryTarget: 'dr-runbooks:recovery-target',
  /** The time RDS was asked to restore to (a named target resolved to its time). */
  restoreTime: 'dr-runbooks:restore-time',
  promotedAt: 'dr-runbooks:promoted-at',
  /** On a source instance: `dr-runbooks:restore-point:<name>` = the time it names. */
  restorePointPrefix: 'dr-runbooks:restore-point:',
} as const;

export const createdByValue = 'dr-runbooks';

/** RDS tag values allow letters, digits, spaces and `_ . : / = + - @`, up to 256 characters. */
export const tagValue = (value: string) => value.replace(/[^\p{L}\p{N}\s_.:/=+\-@]/gu, '_').slice(0, 256);

export const tagsOf = (list: Tag[] | undefined): Record<string, string> => Object.fromEntries((list ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));

export function formatTarget(target: RecoveryTarget): string {
  return target.kind === 'time' ? `time:${new Date(target.time).toISOString()}` : target.kind === 'name' ? `name:${target.name}` : 'latest';
}

export function parseTarget(value: string | undefined): RecoveryTarget | undefined {
  if (!value) return undefined;
  if (value === 'latest') return { kind: 'latest' };
  if (value.startsWith('time:')) return { kind: 'time', time: value.slice(5) };
  if (value.startsWith('name:')) return { kind: 'name', name: value.slice(5) };
  return undefined;
}

/** The tags of an instance a step builds: config tags first, ours over them. */
export function buildTags(origin: Exclude<InstanceOrigin, { kind: 'enrolled' }>, requestedBy: OperationRequester | undefined, configTags: Record<string, string>, restoreTime?: Date): Tag[] {
  const ours: Record<string, string> = {
    [tagKeys.createdBy]: createdByValue,
    [tagKeys.origin]: origin.kind,
    [tagKeys.source]: origin.sourceInstanceId,
    [tagKeys.backup]: origin.backupLabel,
    ...(origin.kind === 'pointInTime' ? { [tagKeys.recoveryTarget]: formatTarget(origin.target) } : {}),
    ...(restoreTime ? { [tagKeys.restoreTime]: restoreTime.toISOString() } : {}),
    ...(requestedBy ? { [tagKeys.workflowId]: requestedBy.workflowId } : {}),
    ...(requestedBy?.incidentId ? { [tagKeys.incidentId]: requestedBy.incidentId } : {}),
  };
  return Object.entries({ ...configTags, ...ours }).map(([Key, Value]) => ({ Key, Value: tagValue(Value) }));
}

/** How an instance dr-runbooks built came to be, read back from its tags; undefined for anything else. */
export function originFromTags(tags: Record<string, string>): Exclude<InstanceOrigin, { kind: 'enrolled' }> | undefined {
  if (tags[tagKeys.createdBy] !== createdByValue) return undefined;
  const sourceInstanceId = tags[tagKeys.source];
  const backupLabel = tags[tagKeys.backup] ?? '';
  if (!sourceInstanceId) return undefined;
  switch (tags[tagKeys.origin]) {
    case 'backup':
      return { kind: 'backup', sourceInstanceId, backupLabel };
    case 'replica':
      return { kind: 'replica', sourceInstanceId, backupLabel };
    case 'pointInTime': {
      const target = parseTarget(tags[tagKeys.recoveryTarget]);
      return target ? { kind: 'pointInTime', sourceInstanceId, backupLabel, target } : undefined;
    }
    default:
      return undefined;
  }
}

/** True when two origins describe the same request (a retry of it). */
export function sameOrigin(a: InstanceOrigin, b: InstanceOrigin): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'enrolled' || b.kind === 'enrolled') return a.kind === b.kind;
  if (a.sourceInstanceId !== b.sourceInstanceId) return false;
  if (a.kind === 'pointInTime' && b.kind === 'pointInTime') return formatTarget(a.target) === formatTarget(b.target);
  if (a.kind === 'backup' && b.kind === 'backup') return !b.backupLabel || a.backupLabel === b.backupLabel;
  return true;
}
