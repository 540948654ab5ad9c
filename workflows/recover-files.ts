import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { z } from 'zod';
import type { FileBackupSummary, StagedRestoreSummary } from '../activities';
import { errorText } from '../contracts/error-text';
import { FailureType } from '../contracts/failure-types';
import { isoInstant, runbookFields, type RunbookInput } from '../contracts/inputs';
import type { ValidationLine } from '../contracts/report';
import { runRunbook } from './runbook';
import { bytesText, handOverField, platformId, quickRead, secondsBetween, systemSection } from './recovered-systems';
import { longOperation, type ScenarioRunbook } from './scenario-steps';

const archiveKind = platformId('an archive kind from the worker config (e.g. documents)');

export const recoverFilesInput = z
  .strictObject({
    ...runbookFields,
    archives: z.array(archiveKind).min(1, 'must name at least one archive kind').optional().describe('the archive kinds to restore, e.g. ["documents","configs","code"] (default: every configured kind)'),
    backupIds: z.record(archiveKind, platformId('a file backup id')).optional().describe('a backup per archive kind, e.g. {"configs":"configs-0301"} (default: the newest of each)'),
    asOf: isoInstant.optional().describe('restore the backups finished at or before this time (what was there before the incident)'),
    failedAt: isoInstant.optional().describe('when the files were lost; the RPO is measured against it (default: declaredAt, else the start)'),
    handOver: handOverField,
  })
  .refine((i) => !(i.backupIds && i.asOf), { path: ['asOf'], message: 'give backupIds or asOf, not both' })
  .refine((i) => !i.archives || !i.backupIds || Object.keys(i.backupIds).every((k) => i.archives!.includes(k)), { path: ['backupIds'], message: 'names an archive kind that is not in archives' })
  .refine((i) => !i.archives || new Set(i.archives).size === i.archives.length, { path: ['archives'], message: 'names an archive kind twice' });
export type RecoverFilesInput = z.input<typeof recoverFilesInput>;
type FilesRunbook = ScenarioRunbook<z.output<typeof recoverFilesInput>>;

function describeStaged(s: StagedRestoreSummary): string {
  return `${s.verifiedEntries} entries verified against the sealed manifest in ${s.stagingDir}${s.verificationCommand ? `; ${s.verificationCommand.argv[0]} … exited ${s.verificationCommand.exitCode} in ${s.verificationCommand.durationMs} ms` : ''}${s.ownershipApplied ? '; owners set' : ''}`;
}

/** "node -e 'const walk = …'": a command as a person reads it, its program by name and a long script cut short. */
function commandLine(argv: readonly string[]): string {
  const [program, ...args] = argv;
  const text = [program?.split('/').pop(), ...args.map((a) => (a.length > 40 ? `'${a.slice(0, 37)}…'` : a))].join(' ');
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

export function fileValidationLines(staged: readonly StagedRestoreSummary[]): ValidationLine[] {
  return staged.flatMap((s) => [
    { check: `${s.archiveKind}: every file against the manifest of ${s.backupId}`, passed: true, detail: `${s.verifiedEntries} entries (type, size, mode, sha256, symlink target)` },
    ...(s.verificationCommand ? [{ check: `${s.archiveKind}: verification command`, passed: s.verificationCommand.exitCode === 0, detail: `${commandLine(s.verificationCommand.argv)} → exit ${s.verificationCommand.exitCode} in ${s.verificationCommand.durationMs} ms` }] : []),
  ]);
}

/**
 * Stages every chosen archive kind: decrypt, unpack beside its target, every file checked against the
 * sealed manifest, the kind's verification command run. A tampered or truncated archive, or a manifest
 * that does not match it, fails here naming the file, before anything is moved. Each staging is undone
 * (removed) by a compensation if the runbook does not get to move it.
 */
export async function stageFileRestores(rb: FilesRunbook, backups: Record<string, FileBackupSummary>): Promise<StagedRestoreSummary[]> {
  const staged: StagedRestoreSummary[] = [];
  for (const [kind, backup] of Object.entries(backups)) {
    staged.push(await rb.step({
      name: `stage ${kind} backup ${backup.backupId}: decrypt, unpack, verify every file${rb.mode === 'drill' ? ' (into the drill directory)' : ''}`,
      activity: 'stageFileRestore',
      args: [{ archiveKind: kind, backupId: backup.backupId, target: rb.mode === 'drill' ? 'drill' : 'source', step: `stage-${kind}` }],
      affectsProduction: false,
      options: longOperation,
      describe: describeStaged,
      compensate: (s) => ({ name: `revert the ${kind} restore ${s.restoreId}`, activity: 'revertFileRestore', args: [{ restoreId: s.restoreId }] }),
    }));
  }
  return staged;
}

/**
 * Moves the staged copies into place (each re-checked just before its rename), the previous copies kept.
 * In a real run each move changes production; if one fails, the kinds already moved are put back (the
 * previous copy returns) before the failure is raised. A drill moves into the drill directories only.
 */
export async function moveFileRestoresIntoPlace<I extends RunbookInput>(rb: ScenarioRunbook<I>, staged: readonly StagedRestoreSummary[]) {
  const moved: Array<StagedRestoreSummary & { previousDir?: string }> = [];
  try {
    for (const s of staged) {
      const name = `move ${s.archiveKind} into place at ${s.targetDir}`;
      const args = [{ restoreId: s.restoreId }] as [{ restoreId: string }];
      const describe = (m: { previousDir?: string }) => (m.previousDir ? `the previous copy kept at ${m.previousDir} until the restore is confirmed` : 'nothing was there before');
      const result = rb.mode === 'drill'
        ? await rb.step({ name, activity: 'moveFileRestoreIntoPlace', args, affectsProduction: false, describe })
        : await rb.step({ name, activity: 'moveFileRestoreIntoPlace', args, affectsProduction: true, describe });
      moved.push({ ...s, ...(result.previousDir ? { previousDir: result.previousDir } : {}) });
    }
  } catch (error) {
    await revertMoved(rb, moved, error);
    throw error;
  }
  return moved;
}

/** After a failure past the moves: the kinds moved are put back (a cancelled run cannot take steps; its report names them). */
export async function revertMoved<I extends RunbookInput>(rb: ScenarioRunbook<I>, moved: readonly StagedRestoreSummary[], error: unknown): Promise<void> {
  if (isCancellation(error) || rb.mode === 'drill') return;
  for (const s of [...moved].reverse()) {
    await rb.step({
      name: `put the previous ${s.archiveKind} back at ${s.targetDir} (the recovery failed: ${errorText(error).slice(0, 120)})`,
      activity: 'revertFileRestore',
      args: [{ restoreId: s.restoreId }],
      affectsProduction: true,
      describe: (r) => `${r.outcome}; removed ${r.removed.join(', ') || 'nothing'}`,
    }).catch(() => undefined);
  }
}

/** Real runs only: drops the previous copies, once what was moved is in use. */
export async function confirmFileRestores<I extends RunbookInput>(rb: ScenarioRunbook<I>, moved: readonly StagedRestoreSummary[]): Promise<void> {
  for (const s of moved) {
    await rb.step({
      name: `confirm the ${s.archiveKind} restore (remove the previous copy)`,
      activity: 'confirmFileRestore',
      args: [{ restoreId: s.restoreId }],
      affectsProduction: true,
      describe: (r) => `removed ${r.removed.join(', ') || 'nothing'}`,
    });
  }
}

/**
 * Documents, configs or code lost (seed 002's file recovery): the chosen backups (the newest, one per
 * kind, or those current at a time) decrypted and unpacked into staging beside their directories, every
 * file verified against its sealed manifest (type, size, mode, owner when root, sha256) and the kind's
 * verification command run → approve `cutover` → moved into place by rename (the previous copy kept) →
 * confirmed (previous copy removed). A failure or an abort before the move removes the staging; a
 * failure during the moves puts the previous copies back. RPO: the failure time minus the oldest backup.
 * A drill restores into each kind's drill directory and removes it at the end.
 */
export async function recoverFiles(input: RecoverFilesInput) {
  return runRunbook({ scenario: 'files', input: recoverFilesInput, gates: ['cutover'] }, input, async (rb: FilesRunbook) => {
    const failedAt = rb.input.failedAt ?? rb.status().rto.declaredAt;
    const backups = await rb.step({
      name: `find the backups to restore${rb.input.archives ? ` of ${rb.input.archives.join(', ')}` : ''}${rb.input.asOf ? ` finished at or before ${rb.input.asOf}` : ''}`,
      activity: 'findFileBackups',
      args: [{ ...(rb.input.archives ? { archives: rb.input.archives } : {}), ...(rb.input.asOf ? { asOf: rb.input.asOf } : {}), ...(rb.input.backupIds ? { backupIds: rb.input.backupIds } : {}) }],
      affectsProduction: false,
      options: quickRead,
      describe: (found) => Object.values(found).map((b) => `${b.archiveKind} ${b.backupId} (${b.fileCount} files, ${bytesText(b.totalBytes)}, taken ${b.takenAt})`).join('; '),
    });
    const oldest = Object.values(backups).map((b) => b.takenAt).sort()[0];
    if (!oldest) throw ApplicationFailure.create({ type: FailureType.NoBackup, nonRetryable: true, message: 'no archive kind to restore' });
    rb.recordRecoveryPoint(oldest, failedAt);
    const staged = await stageFileRestores(rb, backups);
    const readyAt = new Date().toISOString();
    const validation = fileValidationLines(staged);
    const part = { backups, staged, readyAt, validation };
    if (rb.input.handOver) return { ...part, handedOver: rb.handOver() };

    await rb.gate('cutover');
    const moved = await moveFileRestoresIntoPlace(rb, staged);
    rb.cutoverVerified();
    // What was moved is verified in place; a confirm that fails leaves a previous copy to remove, not a restore to undo.
    if (rb.mode === 'real') await confirmFileRestores(rb, moved);
    const section = systemSection('files', rb.systemObjectives()?.files, {
      recovered: staged.map((s) => `${s.archiveKind} from ${s.backupId} into ${s.targetDir}`).join('; '),
      rtoSeconds: rb.status().rto.elapsedSeconds,
      rpoSeconds: rb.status().rpo.achievedSeconds,
      lines: [
        `ready (staged and verified) ${secondsBetween(rb.status().rto.declaredAt, readyAt)} s after the incident was declared`,
        ...(rb.mode === 'drill' ? ['drill: restored into the drill directories, removed at the end; the source directories untouched'] : []),
        ...validation.map((v) => `${v.passed ? '✅' : '❌'} ${v.check}: ${v.detail ?? ''}`),
      ],
    });
    return { ...part, moved: moved.map((m) => ({ archiveKind: m.archiveKind, targetDir: m.targetDir })), systems: [section], instances: Object.fromEntries(staged.map((s) => [s.archiveKind, s.targetDir])) };
  });
}
