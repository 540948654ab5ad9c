// What the gate's read-only transactions ask of the server. Its aggregates are few but wide: the
// measurement keeps one per key range, an exact ledger check one per account (about 500k at 10M
// transactions). At the server's default work_mem they spill to disk, and where the planner runs them in
// parallel, every worker builds the whole group table, writes it out and the leader sorts and merges it
// again: three times the work of one process that holds it in memory. The memory is bounded by a setting
// (`aggregateMemoryMB`) so a gate never asks a small server for more than its operator allows.

/** The gate's default: enough for an exact ledger check of a 10M-row ledger in one batch (the screen asks for less, on purpose). */
export const defaultAggregateMemoryMB = 256;
const bounds = { min: 4, max: 4096 };
/** A check outside the gate (the monitoring's, on a live production database) asks for what checks always asked. */
export const liveCheckMemoryMB = 64;

/** Throws, naming the setting, unless `value` is a whole number of megabytes within the bounds. */
export function validateAggregateMemoryMB(value: number): number {
  if (!Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw new Error(`aggregateMemoryMB: must be a whole number of megabytes from ${bounds.min} to ${bounds.max}, got ${String(value)}`);
  }
  return value;
}

/**
 * SET LOCAL statements for one of the gate's transactions. A hash aggregate may use work_mem ×
 * hash_mem_multiplier; the multiplier is set too, so a server configured lower does not make it spill.
 * JIT compiles each query for longer than these scans save. For the screen (`screen: true`, screening.ts):
 * hash joins, since it joins every row of a big table with each parent; the planner, misjudging how many
 * rows match, would otherwise probe the parent's index once per row (or walk both indexes in key order,
 * reading the child's heap at random). Its aggregate has no groups, so parallel workers each keep one
 * partial row and share the hash tables: they stay allowed. And its hash tables are kept the size of a
 * core's cache (`screenHashMemory`), in batches: each of the child's rows probes a parent at a random
 * key, and a parent's table held whole (667k accounts at 10M transactions) makes every probe a miss to
 * main memory. Writing the child's few joined columns to a batch file and reading them back costs less:
 * the screen's server CPU fell by a fifth at 10M rows; a parent that fits stays in one batch. The batch
 * files take about half the child table's size in temporary space; a server whose temp_file_limit refuses
 * them fails the screen, and its checks then run their own queries (slower, the same verdicts).
 */
export function gateSessionSql(memoryMB: number, options: { screen: boolean }): string {
  validateAggregateMemoryMB(memoryMB);
  return [
    ...(options.screen ? [`SET LOCAL work_mem = '${screenHashMemory}'`, 'SET LOCAL hash_mem_multiplier = 1'] : [`SET LOCAL work_mem = '${memoryMB}MB'`, 'SET LOCAL hash_mem_multiplier = 2']),
    'SET LOCAL jit = off',
    ...(options.screen ? ['SET LOCAL enable_nestloop = off', 'SET LOCAL enable_mergejoin = off'] : []),
  ].join('; ');
}

/** A hash table per batch about the size of one core's L2 cache (2 MB on this project's machines; 1–2 MB on most servers). */
const screenHashMemory = '2MB';
