import { z } from 'zod';
import type { SystemObjectiveResult, SystemSection, ValidationLine } from '../contracts/report';
import type { RecoveredSystem, SystemObjective } from '../contracts/runbook-plan';
import type { RpoMeasure } from '../contracts/runbook-status';
import type { CacheVerificationSummary } from '../activities';

// What the seed-002 runbooks (cache, files, the complete system failure) share: the ids their inputs take,
// the one-line descriptions of what they restored, and the report's section per recovered system.

/** A backup id or an archive kind as the platforms choose them: a-z, 0-9 and '-', starting with a letter. */
export const platformId = (what: string) => z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, `must be ${what}: 1-63 of a-z, 0-9 and '-', starting with a letter`);

/** Quick reads of the platforms (a backup list, a description). */
export const quickRead = { startToCloseTimeout: '1 minute', retry: { initialInterval: '1 second', maximumAttempts: 3 } } as const;

/** A runbook that prepares one part of a larger recovery: restore and validate, then hand what it built to its parent. */
export const handOverField = z.boolean().default(false).describe('restore and validate only, then hand what was built to the parent runbook, which gates and cuts over (set by recoverFromCompleteSystemFailure)');

export function bytesText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 102.4) / 10} KiB`;
  return `${Math.round(bytes / 1024 / 102.4) / 10} MiB`;
}

/** Seconds between two instants (b − a), never negative, one decimal. */
export function secondsBetween(a: string | number, b: string | number): number {
  const ms = (typeof b === 'number' ? b : Date.parse(b)) - (typeof a === 'number' ? a : Date.parse(a));
  return Math.max(0, Math.round(ms / 100) / 10);
}

export function objectiveResult(achievedSeconds: number | undefined, objectiveSeconds: number): SystemObjectiveResult {
  return { objectiveSeconds, ...(achievedSeconds !== undefined ? { achievedSeconds, withinObjective: achievedSeconds <= objectiveSeconds } : {}) };
}

/** A runbook's own RPO measure as a section's objective. */
export function rpoResult(rpo: RpoMeasure, objectiveSeconds = rpo.objectiveSeconds): SystemObjectiveResult {
  return objectiveResult(rpo.achievedSeconds, objectiveSeconds);
}

/** The validation lines of a cache verification: PING, keys per database, the sampled keys (`tolerated` may differ: sessions kept as newer). */
export function cacheValidationLines(v: CacheVerificationSummary, tolerated = 0): ValidationLine[] {
  const keyspace = v.keyspace.map((k) => `db${k.db} ${k.actualKeys}/${k.expectedKeys}`).join(', ');
  return [
    { check: `cache ${v.instanceId}: PING`, passed: v.ping === 'PONG', detail: v.ping },
    ...(v.keyspace.length ? [{ check: `cache ${v.instanceId}: keys per database against backup ${v.backupId}`, passed: v.keyspace.every((k) => k.ok), detail: keyspace }] : []),
    { check: `cache ${v.instanceId}: sampled keys`, passed: v.sample.mismatched <= tolerated, detail: `${v.sample.matched} of ${v.sample.checked} match (${v.sample.expiredSinceBackup} expired since the backup${tolerated ? `, up to ${tolerated} kept as newer on the cache` : ''})${v.problems.length ? `; ${v.problems.join('; ')}` : ''}` },
  ];
}

/** One section of the report for a system, its RTO and RPO against its tier's objectives. */
export function systemSection(system: RecoveredSystem, objectives: SystemObjective | undefined, fields: { recovered: string; rtoSeconds?: number; rpoSeconds?: number; lines: string[] }): SystemSection {
  return {
    system,
    ...(objectives ? { tier: objectives.tier } : {}),
    recovered: fields.recovered,
    ...(objectives ? { rto: objectiveResult(fields.rtoSeconds, objectives.rtoSeconds), rpo: objectiveResult(fields.rpoSeconds, objectives.rpoSeconds) } : {}),
    lines: fields.lines,
  };
}
