import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createValidationActivities } from '../../activities/validation';
import { gateSessionSql, validateAggregateMemoryMB } from '../../activities/validation/gate-session';
import { createMemoryObjectStore } from '../support/memory-object-store';

const noDatabases = { pool: () => Promise.reject(new Error('no database in this test')) };

test('the gate asks for its aggregates\' memory with work_mem and hash_mem_multiplier, and the screen for hash joins in cache-sized batches whatever the aggregates may use (parallel workers allowed)', () => {
  assert.equal(gateSessionSql(256, { screen: false }), "SET LOCAL work_mem = '256MB'; SET LOCAL hash_mem_multiplier = 2; SET LOCAL jit = off");
  for (const memory of [4, 64, 256]) {
    assert.equal(gateSessionSql(memory, { screen: true }), "SET LOCAL work_mem = '2MB'; SET LOCAL hash_mem_multiplier = 1; SET LOCAL jit = off; SET LOCAL enable_nestloop = off; SET LOCAL enable_mergejoin = off");
  }
  assert.throws(() => gateSessionSql(3, { screen: true }), /aggregateMemoryMB/);
  assert.doesNotMatch(gateSessionSql(64, { screen: true }), /max_parallel_workers_per_gather/);
});

test('aggregateMemoryMB must be a whole number of megabytes within its bounds: a bad value is refused by name when the activities are built', () => {
  for (const bad of [0, 3, 4097, 1.5, Number.NaN]) {
    assert.throws(() => validateAggregateMemoryMB(bad), /^Error: aggregateMemoryMB: must be a whole number of megabytes from 4 to 4096/);
    assert.throws(() => createValidationActivities(noDatabases, createMemoryObjectStore(), { aggregateMemoryMB: bad }), /aggregateMemoryMB/);
  }
  assert.equal(validateAggregateMemoryMB(4), 4);
  assert.equal(validateAggregateMemoryMB(4096), 4096);
});
