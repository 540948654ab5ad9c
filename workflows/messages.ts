import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AbortRequest, GateVote, GateVoteOutcome, RunbookStatus } from '../contracts/runbook-status';

// The messages a running runbook answers. Shared by the workflows, our `dr` CLI and the tests; the Web UI
// and the `temporal` CLI reach the same handlers by name ("approve", "reject", "abort", "status").
// Their payload and result types are contracts (contracts/runbook-status.ts).

export const approveUpdate = defineUpdate<GateVoteOutcome, [GateVote]>('approve');
export const rejectUpdate = defineUpdate<GateVoteOutcome, [GateVote]>('reject');
export const approveSignal = defineSignal<[GateVote]>('approve');
export const rejectSignal = defineSignal<[GateVote]>('reject');
export const abortUpdate = defineUpdate<{ accepted: true }, [AbortRequest]>('abort');
export const abortSignal = defineSignal<[AbortRequest]>('abort');
export const statusQuery = defineQuery<RunbookStatus>('status');
