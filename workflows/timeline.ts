import type { TimelineEntry } from '../contracts/runbook-status';

/** The runbook's timeline: what happened when, in workflow time. The status query and the report show it. */
export class Timeline {
  private readonly entries: TimelineEntry[] = [];

  /** Adds an entry starting now; `instant` entries end when they start (a decision, a refusal). */
  add(entry: Omit<TimelineEntry, 'startedAt'>, instant = false): TimelineEntry {
    const now = new Date().toISOString();
    const full: TimelineEntry = { startedAt: now, ...(instant ? { endedAt: now } : {}), ...entry };
    this.entries.push(full);
    return full;
  }

  /** Ends an entry now with its outcome (and detail). */
  end(entry: TimelineEntry, outcome: TimelineEntry['outcome'], detail?: string): void {
    entry.endedAt = new Date().toISOString();
    entry.outcome = outcome;
    if (detail !== undefined) entry.detail = detail;
  }

  /** Whatever was still running or waiting when the runbook ended was cancelled. */
  cancelUnfinished(): void {
    const now = new Date().toISOString();
    for (const entry of this.entries) {
      if (entry.endedAt === undefined && (entry.outcome === 'running' || entry.outcome === 'waiting')) Object.assign(entry, { endedAt: now, outcome: 'cancelled' });
    }
  }

  copy(): TimelineEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }
}
