import type { CompensationReport, GateView, GateVoteRecord, ProofSummary, RunbookResult, TimelineEntry } from './runbook-status';

/** One check of the data validation gate, as a scenario reports it. */
export interface ValidationLine {
  check: string;
  passed: boolean;
  detail?: string;
}

/** An objective as one recovered system met it, or not (undefined: not measured). */
export interface SystemObjectiveResult {
  achievedSeconds?: number;
  objectiveSeconds: number;
  withinObjective?: boolean;
}

/** One recovered system (seed 002: the database, Redis, the files): what it is now, and its objectives against its tier. */
export interface SystemSection {
  system: string;
  /** The tier whose RTO applies (critical, supporting). */
  tier?: string;
  /** What it was recovered from and into, e.g. "backup rdb-0301 into cache instance inc-7-cache-1a2b". */
  recovered: string;
  rto?: SystemObjectiveResult;
  rpo?: SystemObjectiveResult;
  /** Validation and what else the runbook found for this system, one line each (no secrets, no customer data). */
  lines: string[];
}

/** What a report adds to the runbook's result; every field is optional and shown only when given. */
export interface ReportExtras {
  /** One section per recovered system. */
  systems?: SystemSection[];
  /** Ready-made reconciliation lines, e.g. "User Accounts: 15,234 (baseline: 15,230) ✅" (from reconcile()). */
  reconciliation?: string[];
  validation?: ValidationLine[];
  /** Instances the runbook used or built, by role, e.g. { restored: "pitr-inc-7-1a2b" }. */
  instances?: Record<string, string>;
}

export interface RenderedReport {
  markdown: string;
  json: RunbookReportJson;
}

export interface RunbookReportJson {
  title: string;
  workflowId: string;
  scenario: string;
  incidentId: string;
  environment: string;
  mode: 'real' | 'drill';
  startedBy: string;
  verdict: string;
  verdictDetail?: string;
  objectives: {
    rto: { achievedSeconds: number; objectiveSeconds: number; withinObjective?: boolean; declaredAt: string; cutoverVerifiedAt?: string };
    rpo: { achievedSeconds?: number; objectiveSeconds: number; withinObjective?: boolean; newestCommittedAt?: string; targetTime?: string };
  };
  timeline: Array<TimelineEntry & { durationSeconds?: number }>;
  approvals: Array<{ gate: string; status: string; votes: Array<{ kind: 'approve' | 'reject'; approver: string; at: string; comment?: string; proof?: ProofSummary }> }>;
  compensations: CompensationReport[];
  abort?: { by: string; reason: string; at: string };
  reconciliation: string[];
  validation: ValidationLine[];
  instances: Record<string, string>;
  systems: SystemSection[];
}

/** A postgres or redis URL with a password ("postgres://user:secret@host", "redis://:secret@host"): never allowed in a report. */
const CONNECTION_STRING_WITH_PASSWORD = /(?:postgres(?:ql)?|rediss?):\/\/[^\s/@:]*:[^\s/@]+@/i;

/** Thrown when a report would carry a secret; the report is not written at all. */
export class SecretInReportError extends Error {
  constructor(where: string) {
    super(`refusing to render the report: ${where} contains a connection string with a password; reports refer to secrets by name only`);
    this.name = 'SecretInReportError';
  }
}

/** Throws SecretInReportError when `text` holds a postgres://, postgresql://, redis:// or rediss:// URL with a password. */
export function assertNoConnectionSecrets(text: string, where = 'the report'): void {
  if (CONNECTION_STRING_WITH_PASSWORD.test(text)) throw new SecretInReportError(where);
}

/** "0.4 s", "42 s", "12 min 5 s", "1 h 3 min". */
export function formatDuration(totalSeconds: number): string {
  if (totalSeconds < 10) return `${Math.round(totalSeconds * 10) / 10} s`;
  const s = Math.round(totalSeconds);
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h) return m ? `${h} h ${m} min` : `${h} h`;
  return rest ? `${m} min ${rest} s` : `${m} min`;
}

function durationSeconds(entry: TimelineEntry): number | undefined {
  if (!entry.endedAt) return undefined;
  return Math.round((Date.parse(entry.endedAt) - Date.parse(entry.startedAt)) / 100) / 10;
}

function objectiveLine(o: SystemObjectiveResult): string {
  return o.achievedSeconds === undefined ? `not measured (objective: ${formatDuration(o.objectiveSeconds)}) ${mark(undefined)}` : `${formatDuration(o.achievedSeconds)} (objective: ${formatDuration(o.objectiveSeconds)}) ${mark(o.withinObjective)}`;
}

function mark(within: boolean | undefined): string {
  return within === undefined ? '⚠️ not measured' : within ? '✅' : '❌';
}

/**
 * Text from a runbook (names, comments, reasons, what a step said) as Markdown that reads as what it is:
 * one line, and the characters that make emphasis, links, code, HTML or a table cell escaped, so no input
 * can forge a line, a heading or a row of the report.
 */
function text(value: string | undefined): string {
  return (value ?? '').replace(/\r\n?|\n|\u2028|\u2029/g, ' ').replace(/[\\`*_[\]<>|~]/g, (c) => `\\${c}`);
}

/** Markdown table cell: no pipes or line breaks may break the row. */
function cell(value: string | undefined): string {
  return text(value);
}

function time(iso: string | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—';
}

function votesOf(gate: GateView) {
  const vote = (kind: 'approve' | 'reject', v: GateVoteRecord) => ({ kind, approver: v.approver, at: v.at, ...(v.comment ? { comment: v.comment } : {}), ...(v.proof ? { proof: v.proof } : {}) });
  return [...gate.approvals.map((v) => vote('approve', v)), ...(gate.rejection ? [vote('reject', gate.rejection)] : [])].sort((a, b) => a.at.localeCompare(b.at));
}

function proofText(proof: ProofSummary): string {
  return proof.method === 'ssh' ? `SSH signature ${proof.fingerprint ?? ''}`.trim() : proof.method === 'totp' ? 'one-time code' : 'no proof';
}

/**
 * The post-incident report of a runbook (seed 000, "Timeline Creation"): what happened when, the RTO and
 * RPO against the objectives, who approved, what was undone, and the reconciliation lines. Pure: the same
 * result renders the same report. Refuses (SecretInReportError) to render text carrying a password.
 */
export function renderRunbookReport(result: RunbookResult, extras: ReportExtras = {}): RenderedReport {
  const verdictLabel = result.verdict.toUpperCase();
  const title = `${result.mode === 'drill' ? 'DR drill' : 'DR runbook'} report: ${result.scenario} · ${result.incidentId} · ${verdictLabel}`;
  const timeline = result.timeline.map((e) => {
    const d = durationSeconds(e);
    return { ...e, ...(d !== undefined ? { durationSeconds: d } : {}) };
  });
  const approvals = result.gates.filter((g) => g.status !== 'pending').map((g) => ({ gate: g.gate, status: g.status, votes: votesOf(g) }));
  const json: RunbookReportJson = {
    title,
    workflowId: result.workflowId,
    scenario: result.scenario,
    incidentId: result.incidentId,
    environment: result.environment,
    mode: result.mode,
    startedBy: result.startedBy,
    verdict: result.verdict,
    ...(result.verdictDetail ? { verdictDetail: result.verdictDetail } : {}),
    objectives: {
      rto: {
        achievedSeconds: result.rto.elapsedSeconds,
        objectiveSeconds: result.rto.objectiveSeconds,
        declaredAt: result.rto.declaredAt,
        ...(result.rto.cutoverVerifiedAt ? { cutoverVerifiedAt: result.rto.cutoverVerifiedAt } : {}),
        ...(result.rto.withinObjective !== undefined ? { withinObjective: result.rto.withinObjective } : {}),
      },
      rpo: {
        objectiveSeconds: result.rpo.objectiveSeconds,
        ...(result.rpo.achievedSeconds !== undefined ? { achievedSeconds: result.rpo.achievedSeconds } : {}),
        ...(result.rpo.withinObjective !== undefined ? { withinObjective: result.rpo.withinObjective } : {}),
        ...(result.rpo.newestCommittedAt ? { newestCommittedAt: result.rpo.newestCommittedAt } : {}),
        ...(result.rpo.targetTime ? { targetTime: result.rpo.targetTime } : {}),
      },
    },
    timeline,
    approvals,
    compensations: result.compensations,
    ...(result.abort ? { abort: result.abort } : {}),
    reconciliation: extras.reconciliation ?? [],
    validation: extras.validation ?? [],
    instances: extras.instances ?? {},
    systems: extras.systems ?? [],
  };

  const md: string[] = [`# ${title}`, ''];
  md.push(`- **Verdict:** ${verdictLabel}${result.verdictDetail ? ` — ${text(result.verdictDetail)}` : ''}`);
  md.push(`- **Scenario:** ${result.scenario} (${result.mode === 'drill' ? 'drill: production untouched' : 'real'}) · **Environment:** ${result.environment}`);
  md.push(`- **Incident:** ${text(result.incidentId)} · **Started by:** ${text(result.startedBy)} · **Workflow:** \`${result.workflowId.replace(/`/g, '')}\``);
  if (result.abort) md.push(`- **Aborted** by ${text(result.abort.by)} at ${time(result.abort.at)}: ${text(result.abort.reason)}`);
  md.push('', '## Recovery objectives', '');
  const rto = result.rto;
  const rtoEnd = rto.cutoverVerifiedAt ? `declared ${time(rto.declaredAt)} → cutover verified ${time(rto.cutoverVerifiedAt)}` : `declared ${time(rto.declaredAt)}; cutover not verified`;
  md.push(`- RTO: ${formatDuration(rto.elapsedSeconds)} (objective: ${formatDuration(rto.objectiveSeconds)}) ${mark(rto.withinObjective)} — ${rtoEnd}`);
  const rpo = result.rpo;
  md.push(
    rpo.achievedSeconds !== undefined
      ? `- RPO: ${formatDuration(rpo.achievedSeconds)} (objective: ${formatDuration(rpo.objectiveSeconds)}) ${mark(rpo.withinObjective)} — newest committed ${time(rpo.newestCommittedAt)}, target ${time(rpo.targetTime)}`
      : `- RPO: not measured (objective: ${formatDuration(rpo.objectiveSeconds)}) ${mark(undefined)}`,
  );
  if (json.systems.length) {
    md.push('', '## Recovered systems');
    for (const section of json.systems) {
      md.push('', `### ${section.system}${section.tier ? ` (tier: ${section.tier})` : ''}`, '', `- Recovered: ${section.recovered}`);
      if (section.rto) md.push(`- RTO: ${objectiveLine(section.rto)}`);
      if (section.rpo) md.push(`- RPO: ${objectiveLine(section.rpo)}`);
      for (const line of section.lines) md.push(`- ${line}`);
    }
  }
  md.push('', '## Timeline', '', '| # | Step | Start | End | Duration | Outcome | Detail |', '|---|---|---|---|---|---|---|');
  timeline.forEach((e, i) => {
    md.push(`| ${i + 1} | ${cell(e.step)} | ${time(e.startedAt)} | ${time(e.endedAt)} | ${e.durationSeconds !== undefined ? formatDuration(e.durationSeconds) : '—'} | ${e.outcome} | ${cell(e.detail)} |`);
  });
  md.push('', '## Approvals', '');
  if (!approvals.length) md.push('- No approval gate was reached.');
  for (const gate of approvals) {
    md.push(`- Gate "${text(gate.gate)}": ${gate.status}`);
    if (!gate.votes.length) md.push('  - no votes');
    for (const v of gate.votes) md.push(`  - ${v.kind === 'approve' ? 'approved' : 'rejected'} by ${text(v.approver)} at ${time(v.at)}${v.proof ? ` (${proofText(v.proof)})` : ''}${v.comment ? `: "${text(v.comment)}"` : ''}`);
  }
  md.push('', '## Compensations', '');
  if (!result.compensations.length) md.push('- None ran.');
  for (const c of result.compensations) md.push(`- ${c.outcome === 'succeeded' ? '✅' : '❌'} ${text(c.name)} (undoes "${text(c.step)}"): ${c.outcome}${c.detail ? ` — ${text(c.detail)}` : ''}`);
  if (json.validation.length) {
    md.push('', '## Validation', '');
    for (const v of json.validation) md.push(`- ${v.passed ? '✅' : '❌'} ${text(v.check)}${v.detail ? `: ${text(v.detail)}` : ''}`);
  }
  if (json.reconciliation.length) {
    md.push('', '## Reconciliation', '');
    for (const line of json.reconciliation) md.push(`- ${text(line)}`);
  }
  const instances = Object.entries(json.instances);
  if (instances.length) {
    md.push('', '## Instances', '');
    for (const [role, id] of instances) md.push(`- ${text(role)}: \`${id.replace(/`/g, '')}\``);
  }
  md.push('');
  const markdown = md.join('\n');
  assertNoConnectionSecrets(markdown, 'the Markdown report');
  assertNoConnectionSecrets(JSON.stringify(json), 'the JSON report');
  return { markdown, json };
}

/**
 * Extras a scenario's output already carries (`reconciliation`, `validation`, `instances`), for rendering
 * a report from a workflow result when none was published. Anything of another shape is ignored.
 */
export function reportExtrasFromOutput(output: unknown): ReportExtras {
  if (typeof output !== 'object' || output === null) return {};
  const o = output as Record<string, unknown>;
  const extras: ReportExtras = {};
  if (Array.isArray(o.reconciliation) && o.reconciliation.every((l) => typeof l === 'string')) extras.reconciliation = o.reconciliation as string[];
  if (Array.isArray(o.validation) && o.validation.every((v) => typeof v === 'object' && v !== null && typeof (v as ValidationLine).check === 'string' && typeof (v as ValidationLine).passed === 'boolean')) {
    extras.validation = o.validation as ValidationLine[];
  }
  if (typeof o.instances === 'object' && o.instances !== null && Object.values(o.instances).every((v) => typeof v === 'string')) extras.instances = o.instances as Record<string, string>;
  if (Array.isArray(o.systems) && o.systems.every((v) => typeof v === 'object' && v !== null && typeof (v as SystemSection).system === 'string' && typeof (v as SystemSection).recovered === 'string' && Array.isArray((v as SystemSection).lines))) {
    extras.systems = o.systems as SystemSection[];
  }
  return extras;
}
