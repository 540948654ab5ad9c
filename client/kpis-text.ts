import { formatDuration } from '../contracts/report';
import { rateText, type Kpis, type ObjectiveOutcome, type ObjectiveTally, type StatusCounts } from '../contracts/kpis';

/** "42 s of 1 h ✅", "not measured (objective: 15 min)", "12 s (no objective)". */
export function objectiveText(o: ObjectiveOutcome): string {
  if (o.achievedSeconds === undefined) return o.objectiveSeconds === undefined ? 'not measured (no objective)' : `not measured (objective: ${formatDuration(o.objectiveSeconds)})`;
  if (o.objectiveSeconds === undefined) return `${formatDuration(o.achievedSeconds)} (no objective)`;
  return `${formatDuration(o.achievedSeconds)} of ${formatDuration(o.objectiveSeconds)} ${o.met ? 'met' : 'MISSED'}`;
}

export function tallyText(t: ObjectiveTally): string {
  return `${t.met} met, ${t.missed} missed, ${t.unjudged} not measured or without an objective`;
}

export function statusesText(byStatus: StatusCounts): string {
  const entries = Object.entries(byStatus);
  return entries.length ? entries.map(([status, n]) => `${status.toLowerCase()} ${n}`).join(', ') : 'none closed';
}

/** One line per figure, each saying how many runs it is computed from; then one line per drill. */
export function renderKpisText(k: Kpis): string {
  const lines = [
    `DR KPIs ${k.since} → ${k.until}${k.environment ? ` · environment ${k.environment}` : ''}`,
    `  MTTR (real incidents, declared → completed): ${k.mttr.meanSeconds === undefined ? 'no recovered incidents' : `${formatDuration(k.mttr.meanSeconds)} over ${k.mttr.runs} run${k.mttr.runs === 1 ? '' : 's'}`}${k.mttr.notRecovered ? `; ${k.mttr.notRecovered} not recovered` : ''}`,
    `  Drill success: ${rateText(k.drillSuccess)}`,
    `  Drill RTO against objectives: ${tallyText(k.rto)}`,
    `  Drill RPO against objectives: ${tallyText(k.rpo)}`,
    `  Recovery-test success (backup restore tests): ${rateText(k.recoveryTests)} — ${statusesText(k.recoveryTests.byStatus)}`,
    `  Backup success rate (backup workflows): ${rateText(k.backups)} — ${statusesText(k.backups.byStatus)}`,
  ];
  lines.push('', k.drills.length ? 'Drills:' : 'No drills in the period.');
  for (const d of k.drills) {
    // Scenario and incident id are input: one line each, no control characters.
    const safe = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
    lines.push(`  ${d.at.slice(0, 19)}Z  ${d.passed ? 'passed' : 'FAILED'}  ${safe(d.scenario)}  ${safe(d.incidentId)}  RTO ${objectiveText(d.rto)}  RPO ${objectiveText(d.rpo)}  ${safe(d.workflowId)}`);
  }
  return `${lines.join('\n')}\n`;
}
