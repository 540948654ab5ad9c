import { formatDuration } from '../contracts/report';
import { rateText, type DrillKpi, type Kpis } from '../contracts/kpis';
import { objectiveText, statusesText, tallyText } from './kpis-text';

/** Text into HTML, in an element or a quoted attribute: scenario names and incident ids are input. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const WIDTH = 760;
const HEIGHT = 340;
const MARGIN = { left: 70, right: 20, top: 20, bottom: 50 };
/** Round durations to label the y axis with. */
const TICKS = [0, 1, 10, 60, 600, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600];

/** Seconds on a symmetric log scale: RTOs of seconds and objectives of hours on one chart, and an RPO of 0 still on it. */
const symlog = (seconds: number) => Math.log10(1 + Math.max(0, seconds));

interface Series {
  name: 'rto' | 'rpo';
  label: string;
  colour: string;
  achieved: (d: DrillKpi) => number | undefined;
  objective: (d: DrillKpi) => number | undefined;
}

const SERIES: Series[] = [
  { name: 'rto', label: 'RTO', colour: '#1f5fa8', achieved: (d) => d.rto.achievedSeconds, objective: (d) => d.rto.objectiveSeconds },
  { name: 'rpo', label: 'RPO', colour: '#b5561b', achieved: (d) => d.rpo.achievedSeconds, objective: (d) => d.rpo.objectiveSeconds },
];

const f = (n: number) => (Math.round(n * 10) / 10).toString();

/** The inline SVG: RTO and RPO per drill over time, each objective a dashed line. */
export function renderKpiChart(drills: DrillKpi[]): string {
  const values = drills.flatMap((d) => SERIES.flatMap((s) => [s.achieved(d), s.objective(d)])).filter((v): v is number => v !== undefined);
  const top = symlog(Math.max(60, ...values) * 1.5);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const y = (seconds: number) => MARGIN.top + plotH - (symlog(seconds) / top) * plotH;
  const times = drills.map((d) => Date.parse(d.at));
  const first = Math.min(...times);
  const span = Math.max(...times) - first;
  // One drill, or all at one instant: the points stand in the middle, spread by their order.
  const x = (i: number) => MARGIN.left + (span > 0 ? ((times[i]! - first) / span) * (plotW - 40) + 20 : ((i + 1) / (drills.length + 1)) * plotW);

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" id="kpi-chart" role="img" aria-label="RTO and RPO per drill against the objectives" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">`);
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#ccc"/>`);
  for (const tick of TICKS.filter((t) => symlog(t) <= top)) {
    const ty = f(y(tick));
    parts.push(`<line class="tick" x1="${MARGIN.left - 4}" x2="${MARGIN.left + plotW}" y1="${ty}" y2="${ty}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${ty}" text-anchor="end" dominant-baseline="middle" font-size="11">${tick === 0 ? '0' : escapeHtml(formatDuration(tick))}</text>`);
  }
  parts.push(`<text x="14" y="${MARGIN.top + plotH / 2}" font-size="11" transform="rotate(-90 14 ${MARGIN.top + plotH / 2})" text-anchor="middle">seconds (log scale)</text>`);
  for (const s of SERIES) {
    for (const objective of [...new Set(drills.map(s.objective).filter((v): v is number => v !== undefined))]) {
      const oy = f(y(objective));
      parts.push(`<line class="objective ${s.name}" data-seconds="${objective}" x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${oy}" y2="${oy}" stroke="${s.colour}" stroke-dasharray="6 4"><title>${s.label} objective: ${escapeHtml(formatDuration(objective))}</title></line>`);
      parts.push(`<text x="${MARGIN.left + plotW - 4}" y="${f(y(objective) - 4)}" text-anchor="end" font-size="11" fill="${s.colour}">${s.label} objective ${escapeHtml(formatDuration(objective))}</text>`);
    }
    const points = drills.map((d, i) => ({ d, i, v: s.achieved(d) })).filter((p): p is { d: DrillKpi; i: number; v: number } => p.v !== undefined);
    if (points.length > 1) parts.push(`<polyline class="series ${s.name}" fill="none" stroke="${s.colour}" stroke-width="1.5" points="${points.map((p) => `${f(x(p.i))},${f(y(p.v))}`).join(' ')}"/>`);
    for (const p of points) {
      const met = s.name === 'rto' ? p.d.rto.met : p.d.rpo.met;
      parts.push(
        `<circle class="point ${s.name}" data-workflow-id="${escapeHtml(p.d.workflowId)}" data-seconds="${p.v}" cx="${f(x(p.i))}" cy="${f(y(p.v))}" r="5" fill="${met === false ? '#fff' : s.colour}" stroke="${s.colour}" stroke-width="2">` +
          `<title>${escapeHtml(`${p.d.scenario} · ${p.d.incidentId} · ${p.d.at.slice(0, 19)}Z · ${s.label} ${formatDuration(p.v)}${met === false ? ' (missed)' : ''}`)}</title></circle>`,
      );
    }
  }
  drills.forEach((d, i) => {
    parts.push(`<text x="${f(x(i))}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle" font-size="10">${escapeHtml(d.at.slice(5, 16).replace('T', ' '))}</text>`);
  });
  parts.push(`<g font-size="12"><circle cx="${MARGIN.left + 10}" cy="${HEIGHT - 14}" r="5" fill="${SERIES[0]!.colour}"/><text x="${MARGIN.left + 20}" y="${HEIGHT - 10}">RTO achieved</text>`);
  parts.push(`<circle cx="${MARGIN.left + 130}" cy="${HEIGHT - 14}" r="5" fill="${SERIES[1]!.colour}"/><text x="${MARGIN.left + 140}" y="${HEIGHT - 10}">RPO achieved</text>`);
  parts.push(`<text x="${MARGIN.left + 250}" y="${HEIGHT - 10}">hollow: objective missed · dashed: objectives</text></g>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * The KPI page: one self-contained HTML file (inline CSS and SVG, no script, nothing fetched; its CSP says
 * so), a table of the figures, the chart, and a table of the drills.
 */
export function renderKpisHtml(k: Kpis): string {
  const period = `${k.since} → ${k.until}${k.environment ? ` · environment ${k.environment}` : ''}`;
  const figures: Array<[string, string, string]> = [
    ['MTTR (real incidents, declared → completed)', k.mttr.meanSeconds === undefined ? 'no recovered incidents' : formatDuration(k.mttr.meanSeconds), `${k.mttr.runs} recovered${k.mttr.notRecovered ? `, ${k.mttr.notRecovered} not recovered` : ''}`],
    ['Drill success', rateText(k.drillSuccess), `${k.drillSuccess.runs} drills`],
    ['Drill RTO against objectives', tallyText(k.rto), `${k.drills.length} drills`],
    ['Drill RPO against objectives', tallyText(k.rpo), `${k.drills.length} drills`],
    ['Recovery-test success (backup restore tests)', rateText(k.recoveryTests), statusesText(k.recoveryTests.byStatus)],
    ['Backup success rate (backup workflows)', rateText(k.backups), statusesText(k.backups.byStatus)],
  ];
  const rows = k.drills.map(
    (d) =>
      `<tr class="drill ${d.passed ? 'passed' : 'failed'}"><td>${escapeHtml(d.at.slice(0, 19))}Z</td><td>${escapeHtml(d.scenario)}</td><td>${escapeHtml(d.incidentId)}</td><td>${escapeHtml(d.environment)}</td><td>${d.passed ? 'passed' : 'FAILED'} (${escapeHtml(d.verdict)})</td><td>${escapeHtml(objectiveText(d.rto))}</td><td>${escapeHtml(objectiveText(d.rpo))}</td><td><code>${escapeHtml(d.workflowId)}</code></td></tr>`,
  );
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>DR KPIs ${escapeHtml(period)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
tr.failed td { background: #fdecea; }
</style>
</head>
<body>
<h1>DR KPIs</h1>
<p>${escapeHtml(period)}</p>
<table id="kpi-figures">
<thead><tr><th>KPI</th><th>Value</th><th>Computed from</th></tr></thead>
<tbody>
${figures.map(([name, value, from]) => `<tr><th scope="row">${escapeHtml(name)}</th><td>${escapeHtml(value)}</td><td>${escapeHtml(from)}</td></tr>`).join('\n')}
</tbody>
</table>
<h2>RTO and RPO per drill</h2>
${k.drills.length ? renderKpiChart(k.drills) : '<p>No drills in the period.</p>'}
<table id="kpi-drills">
<thead><tr><th>Declared</th><th>Scenario</th><th>Incident</th><th>Environment</th><th>Outcome</th><th>RTO</th><th>RPO</th><th>Workflow</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</body>
</html>
`;
}
