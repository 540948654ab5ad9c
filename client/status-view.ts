import { formatDuration } from '../activities/reports';
import type { GateView, RunbookStatus, TimelineEntry } from '../contracts/runbook-status';

function clock(iso: string | undefined): string {
  return iso ? iso.slice(11, 19) + 'Z' : '…';
}

function timelineLine(e: TimelineEntry): string {
  const took = e.endedAt ? formatDuration((Date.parse(e.endedAt) - Date.parse(e.startedAt)) / 1000) : '…';
  return `${clock(e.startedAt)} → ${e.endedAt ? clock(e.endedAt) : '…'}  ${took.padStart(9)}  ${e.outcome.padEnd(9)}  ${e.step}${e.detail ? ` — ${e.detail}` : ''}`;
}

function gateLine(g: GateView): string {
  const votes = g.approvals.map((v) => v.approver).join(', ');
  const review = g.review?.length ? `\n    REVIEW before deciding:${g.review.map((line) => `\n      ${line}`).join('')}` : '';
  return `gate "${g.gate}": ${g.approvals.length}/${g.quorum} approvals${votes ? ` (${votes})` : ''}; may still approve: ${g.stillMayApprove.join(', ') || 'nobody'}; deadline ${g.deadlineAt ?? '—'}${review}`;
}

function rtoLine(s: RunbookStatus): string {
  const mark = s.rto.withinObjective === undefined ? '' : s.rto.withinObjective ? ' ✅' : ' ❌';
  const state = s.rto.cutoverVerifiedAt ? `cutover verified at ${s.rto.cutoverVerifiedAt}` : s.phase === 'finished' ? 'cutover not verified' : 'clock running';
  return `RTO: ${formatDuration(s.rto.elapsedSeconds)} of ${formatDuration(s.rto.objectiveSeconds)} objective${mark} (${state}, declared ${s.rto.declaredAt})`;
}

function rpoLine(s: RunbookStatus): string {
  if (s.rpo.achievedSeconds === undefined) return `RPO: not measured yet (objective ${formatDuration(s.rpo.objectiveSeconds)})`;
  return `RPO: ${formatDuration(s.rpo.achievedSeconds)} of ${formatDuration(s.rpo.objectiveSeconds)} objective${s.rpo.withinObjective ? ' ✅' : ' ❌'} (newest commit ${s.rpo.newestCommittedAt}, target ${s.rpo.targetTime})`;
}

function verdictLine(s: RunbookStatus): string | undefined {
  return s.verdict ? `verdict: ${s.verdict.toUpperCase()}${s.verdictDetail ? ` — ${s.verdictDetail}` : ''}` : undefined;
}

/** The whole status as a terminal screen: header, clocks, timeline, open gates, verdict. */
export function renderStatusText(s: RunbookStatus): string {
  const lines = [
    `${s.mode === 'drill' ? 'DRILL ' : ''}${s.scenario} · ${s.incidentId} · ${s.environment} · started by ${s.startedBy}`,
    `workflow ${s.workflowId}`,
    `phase: ${s.phase}${s.currentStep ? ` · current step: ${s.currentStep}` : ''}`,
    rtoLine(s),
    rpoLine(s),
    '',
    'timeline:',
    ...(s.timeline.length ? s.timeline.map((e) => `  ${timelineLine(e)}`) : ['  (nothing yet)']),
  ];
  if (s.openGates.length) lines.push('', 'open gates:', ...s.openGates.map((g) => `  ${gateLine(g)}`));
  const verdict = verdictLine(s);
  if (verdict) lines.push('', verdict);
  if (s.abort) lines.push(`aborted by ${s.abort.by} at ${s.abort.at}: ${s.abort.reason}`);
  return lines.join('\n');
}

/**
 * The lines of a status that a log should carry, keyed so a later status can be compared with it; the RTO
 * clock is left out while it runs (it changes on every refresh) and given once the runbook has finished.
 */
export function statusEvents(s: RunbookStatus): Map<string, string> {
  const events = new Map<string, string>();
  events.set('header', `${s.mode === 'drill' ? 'DRILL ' : ''}${s.scenario} · ${s.incidentId} · ${s.environment} · started by ${s.startedBy} · ${s.workflowId}`);
  events.set('phase', `phase: ${s.phase}${s.currentStep ? ` · current step: ${s.currentStep}` : ''}`);
  s.timeline.forEach((e, i) => events.set(`timeline:${i}`, timelineLine(e)));
  for (const g of s.openGates) events.set(`gate:${g.gate}`, gateLine(g));
  if (s.rpo.achievedSeconds !== undefined) events.set('rpo', rpoLine(s));
  if (s.phase === 'finished') events.set('rto', rtoLine(s));
  const verdict = verdictLine(s);
  if (verdict) events.set('verdict', verdict);
  return events;
}

/** The event lines that are new or changed since `previous` (which is updated), in order. */
export function changedLines(previous: Map<string, string>, s: RunbookStatus): string[] {
  const out: string[] = [];
  for (const [key, line] of statusEvents(s)) {
    if (previous.get(key) !== line) out.push(line);
    previous.set(key, line);
  }
  return out;
}
