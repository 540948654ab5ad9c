import { seconds } from '../contracts/durations';
import type { RpoMeasure, RtoClock } from '../contracts/runbook-status';

// The runbook's two clocks, pure: the RTO from the declared incident to the verified cutover, and the RPO
// from the newest commit the recovered database holds to the failure/target time.

export function rtoClock(input: { declaredAtMs: number; cutoverVerifiedAtMs?: number; nowMs: number; objectiveSeconds?: number }): RtoClock {
  const objectiveSeconds = input.objectiveSeconds ?? 0;
  const end = input.cutoverVerifiedAtMs ?? input.nowMs;
  const elapsedSeconds = seconds(Math.max(0, end - input.declaredAtMs));
  const withinObjective = input.cutoverVerifiedAtMs !== undefined ? elapsedSeconds <= objectiveSeconds : input.objectiveSeconds !== undefined && elapsedSeconds > objectiveSeconds ? false : undefined;
  return {
    objectiveSeconds,
    declaredAt: new Date(input.declaredAtMs).toISOString(),
    ...(input.cutoverVerifiedAtMs !== undefined ? { cutoverVerifiedAt: new Date(input.cutoverVerifiedAtMs).toISOString() } : {}),
    elapsedSeconds,
    ...(withinObjective !== undefined ? { withinObjective } : {}),
  };
}

export function rpoMeasure(input: { recoveryPoint?: { newestCommittedAt: string; targetTime: string }; objectiveSeconds?: number }): RpoMeasure {
  const objectiveSeconds = input.objectiveSeconds ?? 0;
  if (!input.recoveryPoint) return { objectiveSeconds };
  const achievedSeconds = seconds(Math.max(0, Date.parse(input.recoveryPoint.targetTime) - Date.parse(input.recoveryPoint.newestCommittedAt)));
  return { objectiveSeconds, ...input.recoveryPoint, achievedSeconds, withinObjective: achievedSeconds <= objectiveSeconds };
}
