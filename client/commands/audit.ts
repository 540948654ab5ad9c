import { randomUUID } from 'node:crypto';
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import type { AuditTrailVerdict } from '../../activities';
import { CliError, ExitCode } from '../connection';
import { withTemporal } from './with-temporal';

export const auditScheduleId = 'dr-audit-verification';

/** Verifies one trail through the worker (it holds the database access and the head key). */
export async function verifyAuditTrailOf(client: Client, taskQueue: string, workflowId: string): Promise<AuditTrailVerdict> {
  return client.workflow.execute('verifyAuditTrail', { taskQueue, workflowId: `audit-verify-${randomUUID().slice(0, 8)}`, args: [{ workflowId }], staticSummary: `audit verification of ${workflowId}` }) as Promise<AuditTrailVerdict>;
}

/** The schedule that verifies every trail and alerts (overlap skip; it keeps running after a failure: that failure is the alert). */
export async function scheduleAuditVerification(client: Client, options: { cron: string; taskQueue: string; environment: string; createdBy: string }) {
  return client.schedule.create({
    scheduleId: auditScheduleId,
    spec: { cronExpressions: [options.cron] },
    action: { type: 'startWorkflow', workflowType: 'verifyAuditTrails', taskQueue: options.taskQueue, workflowId: 'audit-verification', args: [{ environment: options.environment }], staticSummary: `Scheduled audit verification (${options.environment})` },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, pauseOnFailure: false, catchupWindow: '1 hour' },
    state: { note: `created by ${options.createdBy}` },
  });
}

function describeVerdict(v: AuditTrailVerdict): string[] {
  const head = v.head ? `signed head at seq ${v.head.seq} (${v.head.at}, key ${v.head.keyId})` : 'no signed head';
  const lines = [`audit trail of ${v.workflowId}: ${v.ok ? 'VERIFIED' : 'FAILS VERIFICATION'} (${v.rows} row(s), ${head})`];
  for (const p of v.problems) lines.push(`  seq ${p.seq}: ${p.problem}: ${p.detail}`);
  if (v.warning) lines.push(`  warning: ${v.warning}`);
  return lines;
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the audit trails: verify one (hash chain and signed head), schedule the verification of all');
  audit
    .command('verify <workflowId>')
    .description('recompute a runbook\'s audit trail and check it against its signed head: an edited row, a recomputed chain, deleted last rows (exit 1 when it fails)')
    .option('--json', 'print JSON')
    .action(async (workflowId: string, options: { json?: boolean }) => {
      await withTemporal(async ({ client, settings }) => {
        const verdict = await verifyAuditTrailOf(client, settings.taskQueue, workflowId);
        console.log(options.json ? JSON.stringify(verdict, null, 2) : describeVerdict(verdict).join('\n'));
        if (!verdict.ok) throw new CliError(`the audit trail of ${workflowId} fails verification (${verdict.problems.map((p) => p.problem).join(', ')})`, ExitCode.Failed);
      });
    });
  audit
    .command('schedule')
    .description('verify every audit trail on a schedule; trails that fail are an audit alert through the notifiers')
    .requiredOption('--cron <expression>', 'five-field cron, e.g. "17 * * * *" for every hour')
    .option('--environment <name>', 'the environment named in the alert', 'local')
    .option('--as <name>', 'who creates it', process.env.USER ?? 'unknown')
    .action(async (options: { cron: string; environment: string; as: string }) => {
      if (options.cron.trim().split(/\s+/).length !== 5) throw new CliError(`--cron: "${options.cron}" must have five fields, e.g. "17 * * * *"`, ExitCode.Usage);
      await withTemporal(async ({ client, settings }) => {
        await scheduleAuditVerification(client, { cron: options.cron.trim(), taskQueue: settings.taskQueue, environment: options.environment, createdBy: options.as });
        console.log(`scheduled ${auditScheduleId}: verifyAuditTrails at "${options.cron.trim()}"`);
      });
    });
  audit
    .command('unschedule')
    .description('delete the scheduled verification')
    .action(async () => {
      await withTemporal(async ({ client }) => {
        await client.schedule.getHandle(auditScheduleId).delete();
        console.log(`deleted ${auditScheduleId}`);
      });
    });
}
