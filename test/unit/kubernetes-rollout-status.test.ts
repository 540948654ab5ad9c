import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Deployment } from '@kubernetes/client-node';
import { rolloutOf } from '../../activities/adapters/kubernetes/rollout-status';
import { appSecretData, connectionUrlOf } from '../../activities/adapters/kubernetes/app-secret-data';

// kubectl rollout status's rules, on the states a Deployment passes through during a rollout restart
// (observed on the real control plane: generation → observed, 1 → 2 → 3 of 3 updated, old replicas
// pending termination, available), and when its new pods never become ready.

function state(s: { generation: number; observed: number; desired?: number; replicas?: number; updated?: number; available?: number; progressing?: { reason: string; message: string } }): V1Deployment {
  return {
    metadata: { name: 'mita-backend', generation: s.generation, annotations: { 'deployment.kubernetes.io/revision': '4' } },
    spec: { replicas: s.desired ?? 3, selector: {}, template: {} },
    status: {
      observedGeneration: s.observed,
      replicas: s.replicas,
      updatedReplicas: s.updated,
      availableReplicas: s.available,
      ...(s.progressing ? { conditions: [{ type: 'Progressing', status: 'False', reason: s.progressing.reason, message: s.progressing.message }] } : {}),
    },
  };
}

test('a restart walks from "spec update not observed" through updated and terminating replicas to "successfully rolled out"', () => {
  const walk = [
    state({ generation: 5, observed: 4, replicas: 3, updated: 3, available: 3 }),
    state({ generation: 5, observed: 5, replicas: 4, updated: 1, available: 3 }),
    state({ generation: 5, observed: 5, replicas: 4, updated: 2, available: 3 }),
    state({ generation: 5, observed: 5, replicas: 4, updated: 3, available: 3 }),
    state({ generation: 5, observed: 5, replicas: 3, updated: 3, available: 2 }),
    state({ generation: 5, observed: 5, replicas: 3, updated: 3, available: 3 }),
  ].map(rolloutOf);
  assert.deepEqual(walk.map((r) => r.message), [
    'Waiting for deployment spec update to be observed...',
    'Waiting for deployment "mita-backend" rollout to finish: 1 out of 3 new replicas have been updated...',
    'Waiting for deployment "mita-backend" rollout to finish: 2 out of 3 new replicas have been updated...',
    'Waiting for deployment "mita-backend" rollout to finish: 1 old replicas are pending termination...',
    'Waiting for deployment "mita-backend" rollout to finish: 2 of 3 updated replicas are available...',
    'deployment "mita-backend" successfully rolled out',
  ]);
  assert.deepEqual(walk.map((r) => r.state), ['progressing', 'progressing', 'progressing', 'progressing', 'progressing', 'done']);
  assert.deepEqual(walk.map((r) => `${r.updated} of ${r.desired} updated`), ['3 of 3 updated', '1 of 3 updated', '2 of 3 updated', '3 of 3 updated', '3 of 3 updated', '3 of 3 updated']);
  assert.equal(walk.at(-1)!.revision, '4');
});

test('an old status is not taken for the new rollout: until observedGeneration reaches generation, "3 of 3 available" means nothing', () => {
  assert.equal(rolloutOf(state({ generation: 7, observed: 6, replicas: 3, updated: 3, available: 3 })).state, 'progressing');
});

test('ProgressDeadlineExceeded is a failure naming the deployment and carrying the controller\'s message', () => {
  const failed = rolloutOf(state({ generation: 5, observed: 5, replicas: 4, updated: 1, available: 3, progressing: { reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "mita-backend-7d9f" has timed out progressing.' } }));
  assert.equal(failed.state, 'failed');
  assert.equal(failed.message, 'deployment "mita-backend" exceeded its progress deadline: ReplicaSet "mita-backend-7d9f" has timed out progressing.');
  // Other reasons on the same condition are progress, not failure.
  assert.equal(rolloutOf(state({ generation: 5, observed: 5, replicas: 4, updated: 1, available: 3, progressing: { reason: 'ReplicaSetUpdated', message: 'ReplicaSet "mita-backend-7d9f" is progressing.' } })).state, 'progressing');
});

test('scaled to 0, a Deployment has rolled out once no replica is left', () => {
  assert.equal(rolloutOf(state({ generation: 3, observed: 3, desired: 0, replicas: 1, updated: 0, available: 1 })).message, 'Waiting for deployment "mita-backend" rollout to finish: 1 old replicas are pending termination...');
  assert.equal(rolloutOf(state({ generation: 3, observed: 3, desired: 0 })).state, 'done');
});

test('the application\'s Secret keys: one URL, or its five parts, and back', () => {
  const url = 'postgresql://mita_app:p%40ss%2Fw0rd@10.0.0.7:5433/mita';
  assert.deepEqual(appSecretData(url, { url: 'database-url' }), { 'database-url': url });
  const parts = appSecretData(url, { host: 'DB_HOST', port: 'DB_PORT', database: 'DB_NAME', user: 'DB_USER', password: 'DB_PASSWORD' });
  assert.deepEqual(parts, { DB_HOST: '10.0.0.7', DB_PORT: '5433', DB_NAME: 'mita', DB_USER: 'mita_app', DB_PASSWORD: 'p@ss/w0rd' });
  assert.equal(connectionUrlOf(parts, { host: 'DB_HOST', port: 'DB_PORT', database: 'DB_NAME', user: 'DB_USER', password: 'DB_PASSWORD' }), url);
  assert.equal(connectionUrlOf({ DB_HOST: 'h' }, { host: 'DB_HOST', port: 'DB_PORT', database: 'DB_NAME', user: 'DB_USER', password: 'DB_PASSWORD' }), undefined, 'a Secret missing a part holds no connection');
  assert.equal(connectionUrlOf({ 'database-url': url, DB_HOST: 'elsewhere' }, { url: 'database-url', host: 'DB_HOST' }), url, 'the URL key wins');
});
