import type { NotificationOf } from '../../../contracts/notifications';
import { formatDuration } from '../../../contracts/report';
import type { IncidentMessage, MessageContext, MessageField } from './incident-message';
import { stackAlertMessage, webUiLinkOf } from './stack-alert-message';

const stageWords = {
  backup: 'the backup was not taken',
  verify: 'the backup did not verify (pgbackrest verify)',
  restore: 'the backup did not restore',
  measure: 'its restored copy could not be measured',
  checks: 'its restored copy failed the validation gate\'s checks',
} as const satisfies Record<NotificationOf<'backup-test-failed'>['stage'], string>;

/**
 * The message for a backup that failed its restore test. Not an incident of the application (nothing is
 * down), but the backups a recovery would trust are fewer than the schedule says: high, internal (a
 * status page never shows it), and someone should look before the next incident needs that backup.
 */
export function buildBackupTestFailedMessage(n: NotificationOf<'backup-test-failed'>, context: MessageContext = {}): IncidentMessage {
  const what = n.backupLabel ? `Backup set ${n.backupLabel} of ${n.database}` : `The scheduled backup of ${n.database}`;
  const intro = `${what} in ${n.environment} failed its restore test: ${stageWords[n.stage]}. It is not a known good state: no runbook will use its baseline, and the newest backup a recovery can trust is older than the schedule says.`;
  const shown = n.failedChecks.slice(0, 10);
  const fields: MessageField[] = [
    { label: 'Status', value: 'Backup restore test failed' },
    { label: 'Database', value: n.database, internal: true },
    ...(n.backupLabel ? [{ label: 'Backup set', value: `${n.backupLabel}${n.backupStoppedAt ? ` (ended ${n.backupStoppedAt})` : ''}`, internal: true }] : []),
    { label: 'Failed at', value: n.stage, internal: true },
    { label: 'Reason', value: n.reason, internal: true },
    ...shown.map((check, i) => ({ label: `Failed check ${i + 1}`, value: check, internal: true })),
    ...(n.failedChecks.length > shown.length ? [{ label: 'More', value: `${n.failedChecks.length - shown.length} more failed check(s): see the verdict`, internal: true }] : []),
    ...(n.restoreSeconds !== undefined ? [{ label: 'Restore time', value: formatDuration(n.restoreSeconds), internal: true }] : []),
    ...(n.verdictKey ? [{ label: 'Verdict', value: n.verdictKey, internal: true }] : []),
  ];
  const closing = `Find the cause (the verdict in the object store names every failed check; the run's history has the rest), then take a new backup with \`dr backups trigger --database ${n.database}\`.`;
  return stackAlertMessage({
    kind: n.kind,
    context,
    what: 'Backup Restore Test',
    tag: '[HIGH]',
    headline: 'Failed',
    intro,
    fields,
    closing,
    where: [
      { label: 'Environment', value: n.environment, internal: true },
      { label: 'Workflow', value: n.workflowId, internal: true },
    ],
    link: webUiLinkOf(n.workflowId, context),
  });
}
