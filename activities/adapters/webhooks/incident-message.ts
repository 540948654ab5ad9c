import type { Impact, ImpactLevel, IncidentStatus, Notification, NotificationKind, RunbookNotification } from '../../../contracts/notifications';
import { durationToMs } from '../../../contracts/durations';
import { formatDuration } from '../../../contracts/report';
import { buildAuditAlertMessage } from './audit-alert-message';
import { webUiLinkOf } from './stack-alert-message';
import { buildBackupTestFailedMessage } from './backup-test-message';
import { buildReadinessAlertMessage } from './readiness-alert-message';

/**
 * The seed plan's communication templates, rendered once for every channel:
 *
 *   Subject: [CRITICAL] MITA Database Incident - Response In Progress
 *   We are currently experiencing a database incident affecting the MITA application.
 *   Status / Impact / ETA for Resolution / Next Update
 *   We are actively working to resolve this issue and will provide updates every 30 minutes.
 *
 *   Subject: [RESOLVED] MITA Database Incident Resolved
 *   Resolution / Total Downtime / Data Loss / Next Steps
 *
 * Pure: the same notification always renders the same message, so a retried delivery says the same
 * thing and carries the same delivery id.
 */

export interface MessageContext {
  /** The application's name as people know it ("MITA"); config `messages.application`. */
  application?: string;
  /** Base URL of the Temporal Web UI, for a link to the run; config `messages.webUiUrl`. */
  webUiUrl?: string;
  /** The worker's Temporal namespace (for the Web UI link). */
  namespace?: string;
  /** How often the runbooks send status updates, as the config writes it (messages.statusUpdateEvery); default 30 minutes. */
  statusUpdateEvery?: string;
}

export interface MessageField {
  label: string;
  value: string;
  /** Not for a public status page (identifiers, the step running now). */
  internal?: boolean;
}

/** How a person approves the gate: the CLI lines and the Web UI signal. */
export interface ApprovalInstructions {
  gate: string;
  /** The approvers who may still vote, and how many approvals are still needed. */
  whoMayApprove?: string;
  approveCommand: string;
  rejectCommand: string;
  signalName: 'approve';
  /** The Web UI's "Send a Signal" input, on one line. */
  signalInput: string;
}

export interface IncidentMessage {
  kind: NotificationKind;
  drill: boolean;
  /** [CRITICAL], [HIGH], …, or [RESOLVED] (without [DRILL]). */
  tag: string;
  /** The public name: "MITA Database Incident". */
  title: string;
  /** "[DRILL] [CRITICAL] MITA Database Incident - Response In Progress". */
  subject: string;
  intro: string;
  /** The template's lines (Status, Impact, ETA for Resolution, Next Update; Resolution, Total Downtime, …). */
  fields: MessageField[];
  closing?: string;
  /** Where the run is: scenario, incident, environment, workflow. */
  context: MessageField[];
  approval?: ApprovalInstructions;
  /** The run in the Temporal Web UI, when its URL is configured. */
  link?: string;
  /** The whole message as plain text, the way the seed writes its templates. */
  text: string;
  /** What a status page may show: the intro, the public fields and the closing. */
  publicText: string;
}

interface ScenarioDefaults {
  name: string;
  impact: Impact;
  /** The plan's recovery time estimate for the scenario. */
  recoveryTime: string;
}

// Seed 000's scenarios: impact and recovery time as the plan states them.
const scenarioDefaults: Record<string, ScenarioDefaults> = {
  'failed-migration': { name: 'failed migration with data corruption', impact: { level: 'high', summary: 'Potential financial data loss' }, recoveryTime: '15-30 minutes' },
  'server-failure': { name: 'database server failure', impact: { level: 'critical', summary: 'Complete service outage' }, recoveryTime: '30-60 minutes' },
  'region-outage': { name: 'data center (region) outage', impact: { level: 'critical', summary: 'Multi-service outage' }, recoveryTime: '45-90 minutes' },
  'accidental-deletion': { name: 'accidental data deletion', impact: { level: 'high', summary: 'Partial data loss' }, recoveryTime: '20-45 minutes' },
};

export function scenarioDefaultsOf(scenario: string): ScenarioDefaults {
  return scenarioDefaults[scenario] ?? { name: scenario, impact: { level: 'high', summary: 'Being assessed' }, recoveryTime: 'being assessed' };
}

/** The impact a notification states, or the plan's for its scenario. */
export function impactOf(n: RunbookNotification): Impact {
  return ('impact' in n && n.impact) || scenarioDefaultsOf(n.runbook.scenario).impact;
}

const levelWord: Record<ImpactLevel, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low' };
const statusWord: Record<IncidentStatus, string> = { investigating: 'Investigating', identified: 'Identified', monitoring: 'Monitoring' };

/** "2026-11-23 05:00 UTC" (seconds only when not zero); anything unparseable as given. */
export function formatTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const text = at.toISOString();
  const seconds = text.slice(17, 19);
  return `${text.slice(0, 10)} ${text.slice(11, 16)}${seconds === '00' ? '' : `:${seconds}`} UTC`;
}

function againstObjective(measured: number, objective: number | undefined): string {
  if (objective === undefined) return '';
  return ` (objective ${formatDuration(objective)}: ${measured <= objective ? 'met' : 'MISSED'})`;
}

function dataLoss(seconds: number | undefined, objective: number | undefined): string {
  if (seconds === undefined) return 'Not measured';
  if (seconds <= 0) return `None${objective === undefined ? '' : ` (objective ${formatDuration(objective)})`}`;
  return `Up to ${formatDuration(seconds)} of the most recent writes${againstObjective(seconds, objective)}`;
}

/** A word for a shell command line: quoted only when it needs to be. */
function shellWord(value: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export function approvalInstructions(workflowId: string, gate: string, whoMayApprove?: string): ApprovalInstructions {
  const vote = (kind: 'approve' | 'reject') => `npx dr ${kind} ${shellWord(workflowId)} --gate ${shellWord(gate)} --as <your-name> --comment "<why>"`;
  return {
    gate,
    ...(whoMayApprove ? { whoMayApprove } : {}),
    approveCommand: vote('approve'),
    rejectCommand: vote('reject'),
    signalName: 'approve',
    signalInput: JSON.stringify({ gate, approver: '<your-name>', comment: '<why>' }),
  };
}

/** "30 minutes", "1 hour", "90 seconds": the cadence as the seed's sentence says it. */
export function cadenceWords(every: string | undefined): string {
  const ms = every ? durationToMs(every) : 30 * 60_000;
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (ms % 3_600_000 === 0) return unit(ms / 3_600_000, 'hour');
  if (ms % 60_000 === 0) return unit(ms / 60_000, 'minute');
  return unit(Math.round(ms / 1000), 'second');
}

const eta = (etaAt: string | undefined, scenario: ScenarioDefaults) => (etaAt ? formatTime(etaAt) : `${scenario.recoveryTime} (the plan's estimate for a ${scenario.name})`);
const nextUpdate = (at: string | undefined) => (at ? formatTime(at) : 'Within 30 minutes');

/** Renders a notification as the seed's template would. */
export function buildIncidentMessage(n: Notification, context: MessageContext = {}): IncidentMessage {
  if (n.kind === 'audit-alert') return buildAuditAlertMessage(n, context);
  if (n.kind === 'backup-test-failed') return buildBackupTestFailedMessage(n, context);
  if (n.kind === 'readiness-alert') return buildReadinessAlertMessage(n, context);
  const drill = n.runbook.mode === 'drill';
  const app = context.application?.trim();
  const title = `${app ? `${app} ` : ''}Database Incident`;
  const affecting = app ? `the ${app} application` : 'the application';
  const scenario = scenarioDefaultsOf(n.runbook.scenario);
  const impact = impactOf(n);
  const impactLine = `${levelWord[impact.level]} - ${impact.summary}`;
  const severityTag = `[${impact.level.toUpperCase()}]`;
  const context_: MessageField[] = [
    { label: 'Scenario', value: scenario.name, internal: true },
    { label: 'Incident', value: n.runbook.incidentId, internal: true },
    { label: 'Environment', value: n.runbook.environment, internal: true },
    { label: 'Workflow', value: n.runbook.workflowId, internal: true },
  ];
  const link = webUiLinkOf(n.runbook.workflowId, context);
  let tag = severityTag;
  let headline: string;
  let intro: string;
  let fields: MessageField[];
  let closing: string | undefined;
  let approval: ApprovalInstructions | undefined;
  const updatesPromise = `We are actively working to resolve this issue and will provide updates every ${cadenceWords(context.statusUpdateEvery)}.`;

  switch (n.kind) {
    case 'incident-opened':
      headline = `${title} - Response In Progress`;
      intro = `We are currently experiencing a database incident affecting ${affecting}.`;
      fields = [
        { label: 'Status', value: 'Investigating' },
        { label: 'Impact', value: impactLine },
        { label: 'ETA for Resolution', value: eta(n.etaAt, scenario) },
        { label: 'Next Update', value: nextUpdate(n.nextUpdateAt) },
      ];
      closing = updatesPromise;
      context_.push({ label: 'Started by', value: n.startedBy, internal: true });
      break;
    case 'status-update':
      headline = `${title} - Response In Progress`;
      intro = `Update on the database incident affecting ${affecting}.`;
      fields = [
        { label: 'Status', value: statusWord[n.status] },
        { label: 'Impact', value: impactLine },
        { label: 'ETA for Resolution', value: eta(n.etaAt, scenario) },
        { label: 'Next Update', value: nextUpdate(n.nextUpdateAt) },
        ...(n.currentStep ? [{ label: 'Current Step', value: n.currentStep, internal: true }] : []),
        ...(n.elapsedSeconds !== undefined ? [{ label: 'Elapsed', value: `${formatDuration(n.elapsedSeconds)} since the incident was declared`, internal: true }] : []),
      ];
      closing = updatesPromise;
      break;
    case 'approval-needed': {
      const mayApprove = n.stillMayApprove ?? n.approvers;
      const who = `${mayApprove.join(', ') || 'nobody'} (${n.quorum} approval${n.quorum === 1 ? '' : 's'} needed${n.stillMayApprove && n.stillMayApprove.length !== n.approvers.length ? `; listed: ${n.approvers.join(', ')}` : ''})`;
      headline = `${title} - Approval Needed: gate ${n.gate}`;
      intro = `The recovery runbook is waiting at gate "${n.gate}" and goes no further until it is approved.`;
      fields = [
        { label: 'Gate', value: n.gate },
        { label: 'Who May Approve', value: who },
        { label: 'Fails Closed At', value: `${formatTime(n.deadlineAt)} if nobody decides` },
      ];
      approval = approvalInstructions(n.runbook.workflowId, n.gate, who);
      break;
    }
    case 'gate-decided':
      headline = `${title} - Gate ${n.gate} ${n.decision === 'approved' ? 'Approved' : 'Rejected'}`;
      intro = n.decision === 'approved'
        ? `Gate "${n.gate}" was approved by ${n.decidedBy.join(', ')}: the recovery continues.`
        : `Gate "${n.gate}" was rejected by ${n.decidedBy.join(', ')}: the runbook ends without going past it.`;
      fields = [
        { label: 'Gate', value: n.gate },
        { label: 'Decision', value: n.decision === 'approved' ? 'Approved' : 'Rejected' },
        { label: 'By', value: n.decidedBy.join(', ') },
        ...(n.comment ? [{ label: 'Comment', value: n.comment }] : []),
      ];
      break;
    case 'escalation':
      headline = `${title} - Escalated to ${n.audience}`;
      intro = `Escalated to ${n.audience}: gate "${n.gate}" has waited for a decision since ${formatTime(n.waitingSince)}. Nothing goes past it until it is approved; it fails closed at ${formatTime(n.deadlineAt)}.`;
      fields = [
        { label: 'Escalated To', value: n.audience },
        { label: 'Gate', value: n.gate },
        { label: 'Waiting Since', value: formatTime(n.waitingSince) },
        { label: 'Fails Closed At', value: formatTime(n.deadlineAt) },
      ];
      approval = approvalInstructions(n.runbook.workflowId, n.gate);
      break;
    case 'resolved':
      if (n.verdict === 'completed') {
        tag = '[RESOLVED]';
        headline = `${title} Resolved`;
        intro = 'The database incident has been resolved and all services are fully operational.';
        fields = [
          { label: 'Resolution', value: n.resolution ?? `The ${scenario.name} recovery runbook completed${n.detail ? `: ${n.detail}` : ''}.` },
          { label: 'Total Downtime', value: n.downtimeSeconds === undefined ? 'Not measured' : `${formatDuration(n.downtimeSeconds)}${againstObjective(n.downtimeSeconds, n.rtoObjectiveSeconds)}` },
          { label: 'Data Loss', value: dataLoss(n.dataLossSeconds, n.rpoObjectiveSeconds) },
          { label: 'Next Steps', value: n.postIncidentReviewAt ? `Post-incident review scheduled for ${formatTime(n.postIncidentReviewAt)}` : 'Post-incident review to be scheduled' },
        ];
        closing = 'Thank you for your patience during this incident.';
      } else {
        headline = `${title} - Recovery Runbook Ended ${n.verdict}: Manual Response Needed`;
        intro = `The recovery runbook ended ${n.verdict}${n.detail ? ` (${n.detail})` : ''}. The incident is not resolved: the incident commander decides the next step.`;
        fields = [
          { label: 'Status', value: `Runbook ended ${n.verdict}` },
          { label: 'Impact', value: impactLine },
          ...(n.detail ? [{ label: 'Detail', value: n.detail, internal: true }] : []),
          ...(n.downtimeSeconds !== undefined ? [{ label: 'Downtime So Far', value: formatDuration(n.downtimeSeconds) }] : []),
        ];
        closing = 'The runbook timeline and report say what happened and what was undone.';
      }
      break;
  }

  if (drill) intro = `DR drill (production is not changed): ${intro}`;
  const subject = `${drill ? '[DRILL] ' : ''}${tag} ${headline}`;
  const line = (f: MessageField) => `${f.label}: ${f.value}`;
  const approvalText = approval
    ? [
        '',
        `Approve from a terminal: ${approval.approveCommand}`,
        `Reject: ${approval.rejectCommand}`,
        `Or in the Temporal Web UI: open workflow ${n.runbook.workflowId}, More Actions → Send a Signal, name "${approval.signalName}", input ${approval.signalInput}`,
      ]
    : [];
  const text = [
    `Subject: ${subject}`,
    '',
    intro,
    '',
    ...fields.map(line),
    ...approvalText,
    ...(closing ? ['', closing] : []),
    '',
    context_.map(line).join(' · '),
    ...(link ? [link] : []),
  ].join('\n');
  const publicText = [intro, '', ...fields.filter((f) => !f.internal).map(line), ...(closing ? ['', closing] : [])].join('\n');
  return { kind: n.kind, drill, tag, title, subject, intro, fields, ...(closing ? { closing } : {}), context: context_, ...(approval ? { approval } : {}), ...(link ? { link } : {}), text, publicText };
}
