import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PollFailedError, PollTimeoutError, pollUntil, type PollClock } from '../../activities/adapters/aws/polling';
import { judgeAvailability, judgeSnapshot, portStatusOf } from '../../activities/adapters/aws/rds/instance-status';

// Waiting on RDS as pure code over the states it reports (moto reports "available" at once, so the
// pending states, failures and timeouts are tested here with a clock that only moves when slept on).
function fakeClock(): PollClock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return { slept, now: () => now, sleep: async (ms) => { slept.push(ms); now += ms; } };
}

function sequence<T>(states: T[]): () => Promise<T> {
  let i = 0;
  return async () => states[Math.min(i++, states.length - 1)]!;
}

test('creating → backing-up → available: done on the first settled state, a heartbeat with the status and elapsed time for each wait', async () => {
  const clock = fakeClock();
  const beats: Array<[string, number]> = [];
  const status = await pollUntil({ what: 'mita-pitr to become available', read: sequence(['creating', 'creating', 'backing-up', 'available']), judge: judgeAvailability, intervalMs: 30_000, timeoutMs: 3_600_000, onWait: (s, e) => beats.push([s, e]), clock });
  assert.equal(status, 'available');
  assert.deepEqual(beats, [['creating', 0], ['creating', 30], ['backing-up', 60]]);
  assert.deepEqual(clock.slept, [30_000, 30_000, 30_000]);
});

test('storage-optimization counts as available; modifying and rebooting are still on their way', async () => {
  assert.deepEqual(judgeAvailability('storage-optimization'), { done: 'storage-optimization' });
  assert.deepEqual(judgeAvailability('modifying'), { waiting: 'modifying' });
  assert.deepEqual(judgeAvailability('rebooting'), { waiting: 'rebooting' });
  assert.deepEqual(judgeAvailability(undefined), { waiting: 'not reported yet' });
  assert.equal(portStatusOf('backing-up'), 'available', 'a snapshot in progress still serves connections');
  assert.equal(portStatusOf('creating'), 'creating');
  assert.equal(portStatusOf('deleting'), 'deleting');
});

test('a state the instance will not leave by waiting ends the wait at once with what it means', async () => {
  const clock = fakeClock();
  await assert.rejects(
    pollUntil({ what: 'mita-pitr to become available', read: sequence(['creating', 'incompatible-restore']), judge: judgeAvailability, intervalMs: 10_000, timeoutMs: 600_000, clock }),
    (error: unknown) => error instanceof PollFailedError && /mita-pitr to become available: RDS could not restore it \(incompatible-restore\).* after 10 s/.test(error.message),
  );
  assert.ok('failed' in judgeAvailability('inaccessible-encryption-credentials'));
  assert.ok('failed' in judgeAvailability('storage-full'));
});

test('a wait that outlasts its timeout says how long and in which state (retryable: a later attempt may find it done)', async () => {
  const clock = fakeClock();
  await assert.rejects(
    pollUntil({ what: 'mita-pitr to become available', read: sequence(['creating']), judge: judgeAvailability, intervalMs: 60_000, timeoutMs: 300_000, clock }),
    (error: unknown) => error instanceof PollTimeoutError && /still creating after 300 s \(waited up to 300 s\)/.test(error.message),
  );
  assert.deepEqual(clock.slept, [60_000, 60_000, 60_000, 60_000, 60_000], 'the last reading is at the deadline');
});

test('an aborted wait stops before the next reading', async () => {
  const controller = new AbortController();
  const clock = fakeClock();
  let reads = 0;
  await assert.rejects(pollUntil({ what: 'x', read: async () => { reads++; if (reads === 2) controller.abort(); return 'creating'; }, judge: judgeAvailability, intervalMs: 1000, timeoutMs: 60_000, signal: controller.signal, clock }), /cancelled while waiting for x \(last: creating/);
  assert.equal(reads, 2);
});

test('a snapshot: creating with its percentage, then available; failed ends it', () => {
  assert.deepEqual(judgeSnapshot('creating', 40), { waiting: 'creating (40%)' });
  assert.deepEqual(judgeSnapshot('available', 100), { done: 'available' });
  assert.ok('failed' in judgeSnapshot('failed', undefined));
});
