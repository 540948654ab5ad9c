import { ApplicationFailure } from '@temporalio/workflow';
import { FailureType } from '../contracts/failure-types';
import type { RpoMeasure, RtoClock } from '../contracts/runbook-status';
import type { AuditTrail } from './audit-trail';
import { rpoMeasure, rtoClock } from './clocks';
import type { Timeline } from './timeline';

/**
 * The runbook's two measures as it learns them: the RTO clock from the declared incident to the verified
 * cutover, and the recovery point the recovered database holds. Each is put on the timeline and in the
 * audit trail when it is known; objectives come from the plan once it is read.
 */
export class RecoveryMeasures {
  private cutoverVerifiedAt?: number;
  private recoveryPoint?: { newestCommittedAt: string; targetTime: string };

  constructor(
    private readonly timeline: Timeline,
    private readonly audit: AuditTrail,
    private readonly declaredAtMs: number,
    private readonly objectives: () => { rtoSeconds?: number; rpoSeconds?: number } | undefined,
  ) {}

  /** The cutover is verified: the RTO clock stops here. */
  cutoverVerified(): void {
    this.cutoverVerifiedAt = Date.now();
    const rto = this.rto();
    this.timeline.add({ step: 'cutover verified', outcome: 'succeeded', detail: `RTO ${rto.elapsedSeconds} s against an objective of ${rto.objectiveSeconds} s` }, true);
    this.audit.record('runbook', 'cutover-verified', { rtoSeconds: rto.elapsedSeconds, objectiveSeconds: rto.objectiveSeconds });
  }

  /** The newest committed record in the recovered database against the failure/target time: RPO = targetTime − newestCommittedAt. */
  recordRecoveryPoint(newestCommittedAt: string, targetTime: string): void {
    if (Number.isNaN(Date.parse(newestCommittedAt)) || Number.isNaN(Date.parse(targetTime))) {
      throw ApplicationFailure.create({ type: FailureType.InvalidRecoveryPoint, nonRetryable: true, message: `recovery point times must be ISO 8601 (got ${newestCommittedAt}, ${targetTime})` });
    }
    this.recoveryPoint = { newestCommittedAt, targetTime };
    const rpo = this.rpo();
    this.timeline.add({ step: 'recovery point', outcome: 'succeeded', detail: `newest committed ${newestCommittedAt}, target ${targetTime}: RPO ${rpo.achievedSeconds} s against an objective of ${rpo.objectiveSeconds} s` }, true);
    this.audit.record('runbook', 'recovery-point', { newestCommittedAt, targetTime, rpoSeconds: rpo.achievedSeconds, objectiveSeconds: rpo.objectiveSeconds });
  }

  rto(): RtoClock {
    return rtoClock({ declaredAtMs: this.declaredAtMs, cutoverVerifiedAtMs: this.cutoverVerifiedAt, nowMs: Date.now(), objectiveSeconds: this.objectives()?.rtoSeconds });
  }

  rpo(): RpoMeasure {
    return rpoMeasure({ recoveryPoint: this.recoveryPoint, objectiveSeconds: this.objectives()?.rpoSeconds });
  }
}
