import { upsertSearchAttributes } from '@temporalio/workflow';
import type { DrScenario } from '../contracts/search-attributes';

export { DrEnvironment, DrIncidentId, DrScenario, DrStatus } from '../contracts/search-attributes';

type DrKey = typeof DrScenario;

/**
 * The run's search attributes. Coalesced (new runs): a change is kept until just before the runbook's
 * next command, so the statuses a run passes through within one workflow task (running, then at once
 * compensating) are one upsert, not one event each. Runs recorded before coalescing upsert every change
 * at once, as they did.
 */
export class RunSearchAttributes {
  private readonly pending = new Map<string, { key: DrKey; value: string }>();

  constructor(private readonly coalesce: boolean) {}

  /** Sets these attributes (one upsert for all of them when not coalescing). */
  set(...changes: Array<[DrKey, string]>): void {
    for (const [key, value] of changes) this.pending.set(key.name, { key, value });
    if (!this.coalesce) this.flush();
  }

  /** Upserts what changed since the last flush, in one event. */
  flush(): void {
    if (this.pending.size === 0) return;
    upsertSearchAttributes([...this.pending.values()]);
    this.pending.clear();
  }
}
