import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sleep } from '../../lib/child-process';
import { commandLineOf } from '../../lib/leftover-process';
import { repoRoot } from '../../stack/paths';
import { startAlertmanager, type AlertmanagerServer } from '../../stack/alertmanager';
import { startPrometheus, type PrometheusServer } from '../../stack/prometheus';
import { writeShortForRules } from '../support/alert-rules';
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from '../support/webhook-receiver';

// The alert path without our worker: a tiny endpoint serves the seed's postgres_up in Prometheus's text
// format, a real Prometheus scrapes it and evaluates the shipped rules, a real Alertmanager groups what
// fires and delivers it, in its own webhook format, to a local receiver.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dr-prometheus-'));
let postgresUp = 1;
let scrapes = 0;
const exporter = http.createServer((req, res) => {
  scrapes += 1;
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
  res.end(`# HELP postgres_up Whether the probe reached the database.\n# TYPE postgres_up gauge\npostgres_up{environment="test",database="production"} ${postgresUp}\n`);
});
let exporterPort = 0;
let receiver: WebhookReceiver;
let alertmanager: AlertmanagerServer | undefined;
let prometheus: PrometheusServer | undefined;

before(async () => {
  await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
  exporterPort = (exporter.address() as { port: number }).port;
  receiver = await startWebhookReceiver();
});
after(async () => {
  await prometheus?.stop();
  await alertmanager?.stop();
  await receiver.close();
  exporter.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function eventually<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(200);
  }
}

type Notification = { version: string; groupKey: string; status: string; receiver: string; groupLabels: Record<string, string>; commonLabels: Record<string, string>; alerts: Array<{ status: string; labels: Record<string, string>; endsAt: string }> };
const notificationsAfter = (index: number, status: string) => (r: ReceivedRequest) =>
  r.target === 'alertmanager' && receiver.requests.indexOf(r) >= index && r.status === 200 && (r.json as Notification).status === status;

test('DatabaseConnectionFailure fires in a real Prometheus and reaches the receiver through a real Alertmanager, one groupKey for every notice of the group (test copy of the shipped rules: every `for:` cut to 2s)', async (t) => {
  const started = Date.now();
  alertmanager = await startAlertmanager({ stateDir: path.join(tmp, 'alertmanager'), webhookUrl: receiver.urls.alertmanager, groupWait: '1s', groupInterval: '1s', repeatInterval: '2s' });
  prometheus = await startPrometheus({
    stateDir: path.join(tmp, 'prometheus'),
    scrapeTargets: [{ job: 'dr-worker', targets: [`127.0.0.1:${exporterPort}`] }],
    ruleFiles: [writeShortForRules(tmp, '2s')],
    alertmanagerUrls: [alertmanager.url],
    scrapeInterval: '1s',
    evaluationInterval: '1s',
    alertResendDelay: '1s',
  });
  const prom = prometheus;
  t.diagnostic(`Prometheus and Alertmanager ready in ${Date.now() - started} ms`);

  const healthy = await eventually('postgres_up to be scraped', async () => (await prom.query('postgres_up')).find((s) => s.value === 1));
  assert.deepEqual(healthy.labels, { __name__: 'postgres_up', environment: 'test', database: 'production', job: 'dr-worker', instance: `127.0.0.1:${exporterPort}` });
  // Healthy: several evaluations of the seed's group see postgres_up 1, and nothing fires or is sent.
  t.diagnostic(`first scrape seen ${Date.now() - started} ms after the start`);
  const healthySince = Date.now();
  await eventually('three evaluations of the healthy series', async () => {
    const group = (await prom.rules()).find((g) => g.name === 'disaster-recovery');
    return group && Date.parse(group.lastEvaluation) > healthySince + 3_000 ? group : undefined;
  });
  assert.deepEqual(await prom.alerts(), []);
  assert.deepEqual(receiver.requests.filter((r) => r.target === 'alertmanager'), []);

  postgresUp = 0;
  const down = Date.now();
  const pending = await eventually('DatabaseConnectionFailure pending', async () => (await prom.alerts()).find((a) => a.labels.alertname === 'DatabaseConnectionFailure'));
  assert.equal(pending.state, 'pending', 'the rule waits out its `for:` before firing');
  await eventually('DatabaseConnectionFailure firing', async () => (await prom.alerts()).find((a) => a.labels.alertname === 'DatabaseConnectionFailure' && a.state === 'firing'));
  const firing = await receiver.waitFor(notificationsAfter(0, 'firing'), { what: 'firing notification from Alertmanager' });
  t.diagnostic(`postgres_up 0 → firing notification at the receiver in ${Date.now() - down} ms`);
  assert.deepEqual(firing.problems, []);
  const first = firing.json as Notification;
  assert.equal(first.version, '4');
  assert.equal(first.receiver, 'dr-runbooks');
  assert.deepEqual(first.groupLabels, { alertname: 'DatabaseConnectionFailure', environment: 'test', database: 'production' });
  assert.deepEqual(first.commonLabels, {
    alertname: 'DatabaseConnectionFailure', severity: 'critical', runbook: 'database-disaster-recovery.md#scenario-2',
    environment: 'test', database: 'production', job: 'dr-worker', instance: `127.0.0.1:${exporterPort}`,
  });
  assert.equal(first.alerts.length, 1);
  assert.equal(first.alerts[0]!.status, 'firing');
  assert.match(first.groupKey, /alertname="DatabaseConnectionFailure"/);
  const held = await alertmanager.alerts(['alertname="DatabaseConnectionFailure"']);
  assert.equal(held.length, 1);
  assert.equal(held[0]!.status.state, 'active');

  // repeat_interval elapses while it still fires: the same group is notified again, same groupKey.
  const repeat = await receiver.waitFor(notificationsAfter(receiver.requests.indexOf(firing) + 1, 'firing'), { what: 'repeated firing notification' });
  assert.deepEqual(repeat.problems, []);
  assert.equal((repeat.json as Notification).groupKey, first.groupKey);

  postgresUp = 1;
  const up = Date.now();
  const resolved = await receiver.waitFor(notificationsAfter(receiver.requests.indexOf(repeat) + 1, 'resolved'), { what: 'resolved notification' });
  t.diagnostic(`postgres_up 1 → resolved notification in ${Date.now() - up} ms; whole test ${Date.now() - started} ms, ${scrapes} scrapes`);
  const last = resolved.json as Notification;
  assert.deepEqual(resolved.problems, []);
  assert.equal(last.groupKey, first.groupKey);
  assert.equal(last.alerts[0]!.status, 'resolved');
  assert.notEqual(last.alerts[0]!.endsAt, '0001-01-01T00:00:00Z');
});

test('a Prometheus and an Alertmanager left running by a killed run are stopped at the next start on the same state directory', async () => {
  const promDir = path.join(tmp, 'leftover-prometheus');
  const amDir = path.join(tmp, 'leftover-alertmanager');
  // A run that dies with SIGKILL: no exit handler runs, both servers outlive it.
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', `
    const { startPrometheus } = require('./stack/prometheus');
    const { startAlertmanager } = require('./stack/alertmanager');
    (async () => {
      const am = await startAlertmanager({ stateDir: ${JSON.stringify(amDir)}, webhookUrl: 'http://127.0.0.1:9/' });
      const prom = await startPrometheus({ stateDir: ${JSON.stringify(promDir)}, scrapeTargets: [{ job: 'none', targets: ['127.0.0.1:9'] }] });
      console.log(JSON.stringify({ prometheus: prom.process.pid, alertmanager: am.process.pid }));
      process.kill(process.pid, 'SIGKILL');
    })();
  `], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.signal, 'SIGKILL', child.stderr);
  const leftovers = JSON.parse(child.stdout.trim()) as { prometheus: number; alertmanager: number };
  assert.ok(commandLineOf(leftovers.prometheus), 'the killed run left Prometheus running');
  assert.ok(commandLineOf(leftovers.alertmanager), 'the killed run left Alertmanager running');

  const am = await startAlertmanager({ stateDir: amDir, webhookUrl: 'http://127.0.0.1:9/' });
  const prom = await startPrometheus({ stateDir: promDir, scrapeTargets: [{ job: 'none', targets: ['127.0.0.1:9'] }] });
  try {
    assert.equal(commandLineOf(leftovers.prometheus), undefined, 'the leftover Prometheus was stopped');
    assert.equal(commandLineOf(leftovers.alertmanager), undefined, 'the leftover Alertmanager was stopped');
    assert.equal((await prom.query('1'))[0]!.value, 1, 'the new Prometheus answers queries');
    assert.deepEqual(await am.alerts(), []);
  } finally {
    await prom.stop();
    await am.stop();
  }
});
