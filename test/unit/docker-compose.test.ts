import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { loadWorkerConfig } from '../../worker/config';

// No Docker engine runs here, so the deployment file is checked for what the README promises.
const root = path.resolve(__dirname, '../..');
const compose = YAML.parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { image?: string; build?: string; environment?: Record<string, string>; depends_on?: unknown; volumes?: string[] }>;
};

test('every service the README names is in docker-compose.yml', () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Production-like deployment'));
  assert.ok(section, 'README has a "Production-like deployment" section');
  const named = [...section.matchAll(/^- `([a-z-]+)`/gm)].map((m) => m[1]!);
  assert.ok(named.length >= 4, `README names the services (found ${named.join(', ')})`);
  for (const service of named) assert.ok(compose.services[service], `service ${service} is in docker-compose.yml`);
});

test('Temporal persists in PostgreSQL, and the worker is built from this repo and pointed at it', () => {
  const temporal = compose.services.temporal!;
  assert.match(temporal.image ?? '', /^temporalio\/auto-setup:/);
  assert.equal(temporal.environment?.DB, 'postgres12');
  assert.equal(temporal.environment?.POSTGRES_SEEDS, 'temporal-db');
  assert.match(compose.services['temporal-db']!.image ?? '', /^postgres:/);
  assert.match(compose.services['temporal-ui']!.image ?? '', /^temporalio\/ui:2\.42/);
  const worker = compose.services.worker!;
  assert.equal(worker.build, '.');
  assert.equal(worker.environment?.TEMPORAL_ADDRESS, 'temporal:7233');
  assert.equal(worker.environment?.DR_TASK_QUEUE, 'dr-runbooks');
  assert.match(compose.services['app-db']!.image ?? '', /^postgres:15/);
});

test('the compose Temporal server runs with eager activity execution, as the embedded dev server does', () => {
  const temporal = compose.services.temporal!;
  const mount = (temporal.volumes ?? []).map((v) => v.split(':')).find(([, inContainer]) => inContainer === `/etc/temporal/${temporal.environment?.DYNAMIC_CONFIG_FILE_PATH}`);
  assert.ok(mount, `DYNAMIC_CONFIG_FILE_PATH (${temporal.environment?.DYNAMIC_CONFIG_FILE_PATH}) is a file mounted into the container`);
  const dynamic = YAML.parse(readFileSync(path.join(root, mount[0]!), 'utf8')) as Record<string, Array<{ value: unknown }>>;
  assert.deepEqual(dynamic['system.enableActivityEagerExecution'], [{ value: true }]);
});

test('the alert receiver runs beside the worker from the same image and config, holding no database secret', () => {
  const receiver = compose.services['alert-receiver']! as { build?: string; command?: string[]; environment?: Record<string, string>; secrets?: string[]; volumes?: string[] };
  assert.equal(receiver.build, '.');
  assert.deepEqual(receiver.command, ['node', '--import', 'tsx', 'worker/alert-receiver-main.ts']);
  assert.equal(receiver.environment?.DR_CONFIG, compose.services.worker!.environment?.DR_CONFIG);
  assert.deepEqual(receiver.volumes, compose.services.worker!.volumes);
  assert.deepEqual(receiver.secrets, ['alertmanager-receiver-token']);
  const config = loadWorkerConfig(path.join(root, 'config', 'compose.yaml'));
  assert.deepEqual(config.alerts.receiver?.auth, { bearerTokenSecret: 'alertmanager-receiver-token' });
  assert.equal(config.metrics?.listen, '0.0.0.0:9464');
});

test('no password is written into docker-compose.yml or its worker config', () => {
  const text = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
  assert.doesNotMatch(text, /PASSWORD:\s*\S/, 'passwords come from secret files');
  const config = loadWorkerConfig(path.join(root, 'config', 'compose.yaml'));
  assert.equal(config.databases.production?.passwordSecret, 'production-db-password');
  assert.equal(config.databases.production?.host, 'app-db');
});
