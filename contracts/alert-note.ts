// What the alert receiver tells a running runbook about the alert group that started it (the "alert"
// Signal): the group fired again or is resolved. It is a note on the timeline, never an instruction:
// gates still decide. The runbook refuses (and records) anything that is not exactly this shape, so a
// hostile or broken sender can neither fail the runbook nor slip a secret or customer data into its trail.

export interface AlertNote {
  status: 'firing' | 'resolved';
  /** The alertname label, e.g. DatabaseConnectionFailure. */
  alertname: string;
  /** The group's labels (environment, database, severity, …): names from config and fixed sets. */
  labels: Record<string, string>;
  /** When the group's first alert started, and (resolved) when the last one ended; RFC 3339. */
  startsAt?: string;
  endsAt?: string;
}

const labelNamePattern = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** No '@', no quotes, no newlines: a value can never be a credentialed URL or break a line. */
const labelValuePattern = /^[A-Za-z0-9 _.,:/#=+-]{0,200}$/;
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const maxLabels = 24;

/** Why the note is refused, in words that never repeat what was sent; undefined when it is a proper note. */
export function alertNoteRefusal(note: unknown): string | undefined {
  if (typeof note !== 'object' || note === null || Array.isArray(note)) return 'the alert note must be an object {status, alertname, labels, startsAt, endsAt}';
  const n = note as Record<string, unknown>;
  const unknownKeys = Object.keys(n).filter((k) => !['status', 'alertname', 'labels', 'startsAt', 'endsAt'].includes(k));
  if (unknownKeys.length) return `the alert note has ${unknownKeys.length} unknown field(s)`;
  if (n.status !== 'firing' && n.status !== 'resolved') return 'status: must be "firing" or "resolved"';
  if (typeof n.alertname !== 'string' || !labelNamePattern.test(n.alertname)) return 'alertname: must be an alert name (letters, digits, _; at most 64)';
  if (typeof n.labels !== 'object' || n.labels === null || Array.isArray(n.labels)) return 'labels: must be an object of label names to values';
  const labels = Object.entries(n.labels as Record<string, unknown>);
  if (labels.length > maxLabels) return `labels: at most ${maxLabels}`;
  for (const [name, value] of labels) {
    if (!labelNamePattern.test(name)) return 'labels: a label name must be letters, digits and _ (at most 64)';
    if (typeof value !== 'string' || !labelValuePattern.test(value)) return `labels.${name}: must be at most 200 letters, digits, spaces or _ . , : / # = + -`;
  }
  for (const key of ['startsAt', 'endsAt'] as const) {
    if (n[key] !== undefined && (typeof n[key] !== 'string' || !rfc3339.test(n[key] as string))) return `${key}: must be an RFC 3339 time`;
  }
  return undefined;
}

/** "database=production, environment=local": the labels on one line, sorted, for the timeline and the trail. */
export function describeAlertLabels(labels: Record<string, string>): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(', ');
}
