import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesBehind, judgeReplicaLag, replicaLagOf } from '../../contracts/replica-lag';

test('a lag recorded as bytes before it was typed reads as the same state (-1 and null: the primary did not answer)', () => {
  assert.deepEqual(replicaLagOf(0), { state: 'caught-up' });
  assert.deepEqual(replicaLagOf(4096), { state: 'behind', bytes: 4096 });
  assert.equal(replicaLagOf(-1).state, 'unknown');
  assert.equal(replicaLagOf(null).state, 'unknown');
  assert.deepEqual(replicaLagOf({ state: 'behind', bytes: 7 }), { state: 'behind', bytes: 7 });
  assert.equal(bytesBehind({ state: 'caught-up' }), 0);
  assert.equal(bytesBehind({ state: 'unknown', reason: 'down' }), undefined);
});

test('judged once: caught up keeps everything, otherwise the newest replayed commit bounds what a promotion keeps', () => {
  const at = '2026-11-23T03:10:00.000Z';
  const caughtUp = judgeReplicaLag({ lag: { state: 'caught-up' }, newestReplayedCommitAt: '2026-11-23T03:00:00.000Z', at, primary: 'production' });
  assert.deepEqual(caughtUp, { primaryAnswered: true, lossSeconds: 0, recoveryPoint: { newestCommittedAt: at, basis: 'replayed everything production has written' } });
  const gone = judgeReplicaLag({ lag: { state: 'unknown', reason: 'production did not answer' }, newestReplayedCommitAt: '2026-11-23T03:09:30.000Z', at, primary: 'production' });
  assert.equal(gone.primaryAnswered, false);
  assert.equal(gone.lossSeconds, 30);
  assert.match(gone.recoveryPoint!.basis, /production does not answer: commits after the newest replayed one may be lost/);
  const behind = judgeReplicaLag({ lag: { state: 'behind', bytes: 512 }, newestReplayedCommitAt: '2026-11-23T03:09:59.000Z', at, primary: 'production' });
  assert.equal(behind.primaryAnswered, true);
  assert.equal(behind.recoveryPoint!.basis, '512 bytes behind production');
  assert.deepEqual(judgeReplicaLag({ lag: { state: 'unknown', reason: 'x' }, newestReplayedCommitAt: null, at, primary: 'production' }), { primaryAnswered: false }, 'no replayed commit: nothing can be said');
});
