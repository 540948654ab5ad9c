import { proxyActivities } from '@temporalio/workflow';
import { errorText } from '../contracts/error-text';
import type { CompensationReport } from '../contracts/runbook-status';
import type { AuditTrail } from './audit-trail';
import { defaultStepOptions, type ActivityFunction, type CompensationDefinition } from './steps';
import type { Timeline } from './timeline';

interface Pending<A> {
  step: string;
  definition: CompensationDefinition<A>;
}

/**
 * What the runbook built and how to undo it: registered by the step that built it, run newest first
 * when the runbook does not complete (or is a drill), never cancelled half-way (the caller runs them in
 * a non-cancellable scope), each one's outcome reported. A production-affecting step retires the ones
 * registered before it: once production is being changed, undoing what it may use is a person's call.
 */
export class Compensations<A> {
  private readonly pending: Pending<A>[] = [];
  private readonly reports: CompensationReport[] = [];

  constructor(
    private readonly timeline: Timeline,
    private readonly audit: AuditTrail,
    /** Runs after each compensation: the old history shape wrote the audit trail there. */
    private readonly afterEach: () => Promise<void>,
    /** Runs before each compensation's activity is scheduled. */
    private readonly beforeEach: () => void = () => undefined,
  ) {}

  /** Registers a compensation; returns a handle `replace` takes. */
  register(step: string, definition: CompensationDefinition<A>): Pending<A> {
    const pending = { step, definition };
    this.pending.push(pending);
    this.audit.record('runbook', 'compensation-registered', { step, compensation: definition.name });
    return pending;
  }

  /** Puts a more exact compensation in the place of one registered before its step ran (a build's cleanup). */
  replace(registered: Pending<A>, definition: CompensationDefinition<A>): void {
    if (!this.pending.includes(registered)) return; // retired meanwhile
    this.audit.record('runbook', 'compensation-registered', { step: registered.step, compensation: definition.name, replaces: registered.definition.name });
    registered.definition = definition;
  }

  /** Keeps what was built (production is about to change): on the timeline and in the audit trail. */
  retireBefore(step: string): void {
    if (this.pending.length === 0) return;
    const retired = this.pending.splice(0).map((c) => c.definition.name);
    const detail = `production is about to change; these are kept, not undone automatically: ${retired.join(', ')}`;
    this.timeline.add({ step: 'compensations retired', outcome: 'retired', detail }, true);
    this.audit.record('runbook', 'compensations-retired', { before: step, retired });
  }

  /**
   * Gives everything registered to a parent runbook (which registers it as its own): this runbook no
   * longer undoes it, at its end or in a drill; on the timeline and in the audit trail.
   */
  handOver(to: string): CompensationDefinition<A>[] {
    const handed = this.pending.splice(0).map((c) => c.definition);
    if (handed.length) {
      this.timeline.add({ step: 'compensations handed over', outcome: 'succeeded', detail: `${to} now undoes, if it does not complete: ${handed.map((c) => c.name).join(', ')}` }, true);
      this.audit.record('runbook', 'compensations-handed-over', { to, compensations: handed.map((c) => c.name) });
    }
    return handed;
  }

  get outstanding(): number {
    return this.pending.length;
  }

  /** Runs every registered compensation, newest first. */
  async runAll(): Promise<void> {
    while (this.pending.length) await this.run(this.pending.pop()!);
  }

  copyReports(): CompensationReport[] {
    return this.reports.map((c) => ({ ...c }));
  }

  failures(): CompensationReport[] {
    return this.reports.filter((c) => c.outcome === 'failed');
  }

  private async run(pending: Pending<A>): Promise<void> {
    const { definition } = pending;
    const entry = this.timeline.add({ step: `compensation: ${definition.name}`, outcome: 'running', detail: `undoes step "${pending.step}"` });
    this.audit.record('runbook', 'compensation-started', { compensation: definition.name, step: pending.step });
    const activities = proxyActivities<Record<string, ActivityFunction>>({ ...defaultStepOptions, ...definition.options, summary: `compensation: ${definition.name}` });
    this.beforeEach();
    try {
      await activities[definition.activity]!(...definition.args);
      entry.outcome = 'succeeded';
      this.reports.push({ name: definition.name, step: pending.step, outcome: 'succeeded' });
    } catch (error) {
      entry.outcome = 'failed';
      entry.detail = `undoes step "${pending.step}": ${errorText(error)}`;
      this.reports.push({ name: definition.name, step: pending.step, outcome: 'failed', detail: errorText(error) });
    }
    entry.endedAt = new Date().toISOString();
    this.audit.record('runbook', 'compensation-ended', { compensation: definition.name, step: pending.step, outcome: entry.outcome, ...(entry.outcome === 'failed' ? { detail: entry.detail } : {}) });
    await this.afterEach();
  }
}
