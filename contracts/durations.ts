import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';

// Durations as people write them in config ("15 minutes", "90s", "1h": the Temporal SDK's format).

export function durationToMs(value: string): number {
  return msToNumber(value as never);
}

/** A duration such as "15 minutes", "90s" or "1h". */
export const duration = z.string().refine((value) => {
  try {
    return durationToMs(value) >= 0;
  } catch {
    return false;
  }
}, 'must be a duration such as "15 minutes", "90s" or "1h"');

/** 1234 ms -> 1.2 (seconds, one decimal): how the runbook's clocks and timeline count. */
export function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}
