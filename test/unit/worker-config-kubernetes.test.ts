import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadWorkerConfig } from '../../worker/config';

// The Kubernetes family's config keys: clusters (kubeconfig and context, or in-cluster), the application's
// Deployment and Secret, a SecretStore in Secrets. A bad key is refused naming the field.
const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-config-k8s-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const databases = 'databases:\n  production: { port: 5432, database: mita, user: app, passwordSecret: pw }\n';
const clusters = `kubernetes:
  clusters:
    mita-production: { kubeconfig: kube/config, context: "arn:aws:eks:us-east-1:123456789012:cluster/mita-production" }
    mita-dr: { inCluster: true }
`;
const load = (text: string) => {
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, databases + text);
  return loadWorkerConfig(file);
};

test('the seeds\' topology loads: two clusters, the Deployment and its Secret, a standby in the DR cluster, a SecretStore in Secrets', () => {
  const config = load(clusters + `app:
  databaseRole: mita_app
  kubernetes:
    cluster: mita-production
    namespace: mita-production
    deployment: mita-backend
    secret: mita-db-config
    healthUrl: http://mita-api.mita-production.svc/health/database
    standby: { cluster: mita-dr }
secretStore:
  kubernetes: { cluster: mita-production, namespace: dr-runbooks }
`);
  assert.deepEqual(config.kubernetes?.clusters['mita-production'], { kubeconfig: path.join(dir, 'kube', 'config'), context: 'arn:aws:eks:us-east-1:123456789012:cluster/mita-production' }, 'the kubeconfig path is resolved against the config file');
  assert.deepEqual(config.kubernetes?.clusters['mita-dr'], { inCluster: true });
  assert.deepEqual(config.app?.kubernetes?.secretKeys, { url: 'database-url' }, "the seed's key by default");
  assert.equal(config.app?.kubernetes?.rolloutTimeoutSeconds, 600);
  assert.deepEqual(config.app?.kubernetes?.standby, { cluster: 'mita-dr' });
  assert.deepEqual(config.secretStore?.kubernetes, { cluster: 'mita-production', namespace: 'dr-runbooks', namePrefix: 'dr-runbooks-', keepVersions: 5 });
  assert.equal(config.app?.databaseRole, 'mita_app');
  assert.equal(config.app?.envFile, undefined);
});

test('a cluster signs in with a kubeconfig file or its own ServiceAccount, not both and not neither', () => {
  assert.throws(() => load('kubernetes:\n  clusters:\n    prod: { context: prod }\n'), /kubernetes\.clusters\.prod\.kubeconfig: is required: a kubeconfig file \(with context\), or inCluster: true/);
  assert.throws(() => load('kubernetes:\n  clusters:\n    prod: { inCluster: true, kubeconfig: k }\n'), /kubernetes\.clusters\.prod\.inCluster: signs in with the pod's ServiceAccount: remove kubeconfig and context/);
  assert.throws(() => load('kubernetes:\n  clusters:\n    prod: { kubeconfig: k, token: abc }\n'), /kubernetes\.clusters\.prod: Unrecognized key: "token"/);
});

test('every cluster a key names must be in kubernetes.clusters', () => {
  assert.throws(() => load(clusters + 'app:\n  databaseRole: mita_app\n  kubernetes: { cluster: mita-staging, namespace: mita, deployment: mita-backend, secret: mita-db-config, standby: { cluster: mita-west } }\nsecretStore:\n  kubernetes: { cluster: elsewhere, namespace: dr }\n'), (error: Error) => {
    assert.match(error.message, /app\.kubernetes\.cluster: "mita-staging" is not in kubernetes\.clusters \(known: mita-production, mita-dr\)/);
    assert.match(error.message, /app\.kubernetes\.standby\.cluster: "mita-west" is not in kubernetes\.clusters/);
    assert.match(error.message, /secretStore\.kubernetes\.cluster: "elsewhere" is not in kubernetes\.clusters/);
    return true;
  });
  assert.throws(() => load('app:\n  databaseRole: mita_app\n  kubernetes: { cluster: prod, namespace: mita, deployment: mita-backend, secret: mita-db-config }\n'), /app\.kubernetes\.cluster: "prod" is not in kubernetes\.clusters \(known: none\)/);
});

test('Kubernetes names and Secret keys are checked as the API server would', () => {
  const app = (fields: string) => load(clusters + `app:\n  databaseRole: mita_app\n  kubernetes: { cluster: mita-production, ${fields} }\n`);
  assert.throws(() => app('namespace: Mita_Production, deployment: mita-backend, secret: mita-db-config'), /app\.kubernetes\.namespace: must be a Kubernetes name \(DNS label\)/);
  assert.throws(() => app('namespace: mita, deployment: mita-backend-, secret: mita-db-config'), /app\.kubernetes\.deployment: must be a Kubernetes object name/);
  assert.throws(() => app('namespace: mita, deployment: mita-backend, secret: mita-db-config, secretKeys: { url: "database url" }'), /app\.kubernetes\.secretKeys\.url: must be a Secret key/);
  assert.throws(() => app('namespace: mita, deployment: mita-backend, secret: mita-db-config, rolloutTimeoutSeconds: 5'), /app\.kubernetes\.rolloutTimeoutSeconds: must be at least 10 seconds/);
});

test('the Secret keys are a URL, or all five parts, or both', () => {
  const keys = (value: string) => load(clusters + `app:\n  databaseRole: mita_app\n  kubernetes: { cluster: mita-production, namespace: mita, deployment: mita-backend, secret: mita-db-config, secretKeys: ${value} }\n`).app?.kubernetes?.secretKeys;
  assert.deepEqual(keys('{ host: DB_HOST, port: DB_PORT, database: DB_NAME, user: DB_USER, password: DB_PASSWORD }'), { host: 'DB_HOST', port: 'DB_PORT', database: 'DB_NAME', user: 'DB_USER', password: 'DB_PASSWORD' });
  assert.deepEqual(keys('{ url: DATABASE_URL, password: DB_PASSWORD, host: DB_HOST, port: DB_PORT, database: DB_NAME, user: DB_USER }')?.url, 'DATABASE_URL');
  assert.throws(() => keys('{ host: DB_HOST, password: DB_PASSWORD }'), (error: Error) => {
    assert.match(error.message, /app\.kubernetes\.secretKeys\.port: is required with host, password/);
    assert.match(error.message, /app\.kubernetes\.secretKeys\.user: is required/);
    return true;
  });
  assert.throws(() => keys('{}'), /app\.kubernetes\.secretKeys\.url: is required: the Secret key that holds the connection URL/);
});

test('with app.kubernetes the local runtime\'s fields are refused; without it, the local runtime needs envFile and port', () => {
  assert.throws(() => load(clusters + 'app:\n  databaseRole: mita_app\n  envFile: app.env\n  port: 8080\n  kubernetes: { cluster: mita-production, namespace: mita, deployment: mita-backend, secret: mita-db-config }\n'), (error: Error) => {
    assert.match(error.message, /app\.envFile: belongs to the local runtime, not app\.kubernetes/);
    assert.match(error.message, /app\.port: belongs to the local runtime/);
    return true;
  });
  assert.throws(() => load('app:\n  databaseRole: mita_app\n  port: 8080\n'), /app\.envFile: is required by the local runtime/);
  assert.throws(() => load('app:\n  databaseRole: mita_app\n  envFile: a.env\n'), /app\.port: is required by the local runtime/);
});

test('the application role is a PostgreSQL role name', () => {
  assert.throws(() => load('app:\n  envFile: a.env\n  port: 8080\n  databaseRole: "mita app; DROP ROLE x"\n'), /app\.databaseRole: must be a PostgreSQL role name/);
  assert.equal(load('app:\n  envFile: a.env\n  port: 8080\n  databaseRole: mita_app\n').app?.databaseRole, 'mita_app');
});

test('the SecretStore in Secrets keeps at least the previous version', () => {
  assert.throws(() => load(clusters + 'secretStore:\n  kubernetes: { cluster: mita-production, namespace: dr, keepVersions: 0 }\n'), /secretStore\.kubernetes\.keepVersions: must be at least 1/);
  assert.throws(() => load(clusters + 'secretStore:\n  kubernetes: { cluster: mita-production, namespace: dr, namePrefix: "DR_" }\n'), /secretStore\.kubernetes\.namePrefix: must be the start of a Kubernetes name/);
  assert.throws(() => load('secretStore:\n  vault: {}\n'), /secretStore: Unrecognized key: "vault"/);
});
