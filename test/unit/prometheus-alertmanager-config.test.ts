import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import YAML from 'yaml';
import { PrerequisiteError } from '../../lib/prerequisite-error';
import { alertmanagerConfig, amtoolBinary, startAlertmanager } from '../../stack/alertmanager';
import { prometheusConfig, promtoolBinary, startPrometheus } from '../../stack/prometheus';
import { rulesFile } from '../support/alert-rules';

// The configs the stack starters write are checked by the servers' own tools, so a config Prometheus
// or Alertmanager would refuse fails here, with their words, before any server is started.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dr-monitoring-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function check(tool: string, args: string[], config: string, name: string) {
  const file = path.join(tmp, name);
  writeFileSync(file, config);
  const result = spawnSync(tool, [...args, file], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

test('the prometheus.yml written for scrape targets, rules and an Alertmanager passes `promtool check config`', () => {
  const config = prometheusConfig({
    scrapeTargets: [{ job: 'dr-worker', targets: ['127.0.0.1:9464'], labels: { environment: 'local' } }, { job: 'other', targets: ['127.0.0.1:9465', 'localhost:9466'], metricsPath: '/m' }],
    ruleFiles: [rulesFile],
    alertmanagerUrls: ['http://127.0.0.1:9093'],
    scrapeInterval: '1s',
    evaluationInterval: '1s',
  });
  const result = check(promtoolBinary(), ['check', 'config'], config, 'prometheus.yml');
  assert.equal(result.status, 0, result.output);
  assert.match(result.output, /SUCCESS: 9 rules found/, 'promtool also loaded the rule file the config names');
  const parsed = YAML.parse(config) as { scrape_configs: Array<{ scrape_timeout: string }> };
  assert.equal(parsed.scrape_configs[0]!.scrape_timeout, '1s', 'a scrape may not outlast its interval');
});

test('the alertmanager.yml written for a webhook passes `amtool check-config`', () => {
  const config = alertmanagerConfig({ webhookUrl: 'http://127.0.0.1:8080/alertmanager', groupWait: '1s', groupInterval: '1s', repeatInterval: '2s' });
  const result = check(amtoolBinary(), ['check-config'], config, 'alertmanager.yml');
  assert.equal(result.status, 0, result.output);
  assert.match(result.output, /SUCCESS/);
  assert.deepEqual((YAML.parse(config) as { route: { group_by: string[] } }).route.group_by, ['alertname', 'environment', 'database']);
});

test('Alertmanager authenticates to the webhook with a bearer token or basic auth read from a file; amtool accepts both', () => {
  const tokenFile = path.join(tmp, 'token');
  writeFileSync(tokenFile, 's3cret\n');
  for (const webhookAuth of [{ bearerTokenFile: tokenFile }, { basicAuth: { username: 'alertmanager', passwordFile: tokenFile } }]) {
    const config = alertmanagerConfig({ webhookUrl: 'http://127.0.0.1:9095/alerts', webhookAuth });
    const result = check(amtoolBinary(), ['check-config'], config, 'alertmanager-auth.yml');
    assert.equal(result.status, 0, result.output);
    assert.doesNotMatch(config, /s3cret/, 'the secret stays in its file');
    const webhook = (YAML.parse(config) as { receivers: Array<{ webhook_configs: Array<{ http_config: unknown }> }> }).receivers[0]!.webhook_configs[0]!;
    assert.deepEqual(webhook.http_config, 'bearerTokenFile' in webhookAuth ? { authorization: { type: 'Bearer', credentials_file: tokenFile } } : { basic_auth: { username: 'alertmanager', password_file: tokenFile } });
  }
});

test('a bad option is refused before anything starts, naming the option and the problem', () => {
  const target = { job: 'dr-worker', targets: ['127.0.0.1:9464'] };
  assert.throws(() => prometheusConfig({ scrapeTargets: [{ ...target, job: 'dr worker' }] }), /^Error: scrapeTargets\[0\]\.job: "dr worker" is not a job name/);
  assert.throws(() => prometheusConfig({ scrapeTargets: [target, target] }), /scrapeTargets\[1\]\.job: "dr-worker" is used twice/);
  assert.throws(() => prometheusConfig({ scrapeTargets: [{ ...target, targets: ['http://127.0.0.1:9464/metrics'] }] }), /scrapeTargets\[0\]\.targets\[0\]: "http:\/\/127\.0\.0\.1:9464\/metrics" is not host:port/);
  assert.throws(() => prometheusConfig({ scrapeTargets: [target], ruleFiles: [path.join(tmp, 'missing.yml')] }), /ruleFiles\[0\]: .*missing\.yml does not exist/);
  assert.throws(() => prometheusConfig({ scrapeTargets: [target], scrapeInterval: '1 minute' }), /scrapeInterval: "1 minute" is not a duration/);
  assert.throws(() => prometheusConfig({ scrapeTargets: [target], alertmanagerUrls: ['127.0.0.1:9093'] }), /alertmanagerUrls\[0\]: "127\.0\.0\.1:9093" is not a URL like http:\/\/127\.0\.0\.1:9093/);
  assert.throws(() => prometheusConfig({ scrapeTargets: [target], alertmanagerUrls: ['ftp://127.0.0.1:9093'] }), /alertmanagerUrls\[0\]: "ftp:\/\/127\.0\.0\.1:9093" must be http or https/);
  assert.throws(() => alertmanagerConfig({ webhookUrl: 'not a url' }), /webhookUrl: "not a url" is not a URL like/);
  assert.throws(() => alertmanagerConfig({ webhookUrl: 'http://127.0.0.1:1/', groupBy: ['alert-name'] }), /groupBy\[0\]: "alert-name" is not a label name/);
  assert.throws(() => alertmanagerConfig({ webhookUrl: 'http://127.0.0.1:1/', repeatInterval: '4 hours' }), /repeatInterval: "4 hours" is not a duration/);
});

test('a missing binary or a taken port ends the start with one line saying what to do', async () => {
  const saved = process.env.DR_PROMETHEUS_BIN;
  process.env.DR_PROMETHEUS_BIN = path.join(tmp, 'no-prometheus');
  try {
    await assert.rejects(startPrometheus({ stateDir: path.join(tmp, 'p1'), scrapeTargets: [{ job: 'j', targets: ['127.0.0.1:9'] }] }), (error: PrerequisiteError) =>
      error instanceof PrerequisiteError && /no-prometheus\. Fix: run `npm run bootstrap` \(apt-get install prometheus\), or set DR_PROMETHEUS_BIN$/.test(error.message));
  } finally {
    if (saved === undefined) delete process.env.DR_PROMETHEUS_BIN;
    else process.env.DR_PROMETHEUS_BIN = saved;
  }
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    await assert.rejects(startAlertmanager({ stateDir: path.join(tmp, 'a1'), webhookUrl: 'http://127.0.0.1:9/', port }), (error: PrerequisiteError) =>
      error instanceof PrerequisiteError && error.what === `port ${port} on 127.0.0.1, wanted for Alertmanager, is already in use`);
  } finally {
    blocker.close();
  }
});
