import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import YAML from 'yaml';
import { metricsContractFile, promtool, rulesFile, rulesTestFile, withShortFor } from '../support/alert-rules';

interface Rule { alert: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
interface RuleFile { groups: Array<{ name: string; rules: Rule[] }> }
interface RuleTestFile { tests: Array<{ name: string; alert_rule_test: Array<{ alertname: string; eval_time: string; exp_alerts: unknown[] }> }> }

const rules = YAML.parse(readFileSync(rulesFile, 'utf8')) as RuleFile;
const allRules = rules.groups.flatMap((g) => g.rules);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dr-alert-rules-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// Seed 000, "Monitoring and Alerting / Critical Metrics", as the plan writes it.
const seedGroup = {
  name: 'disaster-recovery',
  rules: [
    { alert: 'DatabaseConnectionFailure', expr: 'postgres_up == 0', for: '1m', labels: { severity: 'critical', runbook: 'database-disaster-recovery.md#scenario-2' } },
    { alert: 'DataCorruptionDetected', expr: 'financial_integrity_check == 0', for: '0s', labels: { severity: 'critical', runbook: 'database-disaster-recovery.md#scenario-1' } },
    { alert: 'BackupValidationFailed', expr: 'backup_validation_success == 0', for: '0s', labels: { severity: 'critical', runbook: 'database-disaster-recovery.md#backup-issues' } },
  ],
};

test('the shipped rules pass the real `promtool check rules`', () => {
  const result = promtool(['check', 'rules', rulesFile]);
  assert.equal(result.status, 0, result.output);
  assert.match(result.output, new RegExp(`SUCCESS: ${allRules.length} rules found`));
});

test('every rule fires on its series and stays silent on healthy ones (`promtool test rules`)', () => {
  const result = promtool(['test', 'rules', rulesTestFile]);
  assert.equal(result.status, 0, result.output);
  assert.match(result.output, /SUCCESS/);
});

test('a rule that stops matching its series fails the promtool tests, naming the alert', () => {
  const broken = path.join(tmp, 'broken.rules.yml');
  writeFileSync(broken, readFileSync(rulesFile, 'utf8').replace('expr: postgres_up == 0', 'expr: postgres_up == 1'));
  const tests = path.join(tmp, 'broken.test.yml');
  writeFileSync(tests, readFileSync(rulesTestFile, 'utf8').replace('  - disaster-recovery.rules.yml', `  - ${broken}`));
  const result = promtool(['test', 'rules', tests], tmp);
  assert.equal(result.status, 1, result.output);
  assert.match(result.output, /FAILED[\s\S]*alertname: DatabaseConnectionFailure/);
});

test("the seed's disaster-recovery group is in the file exactly as seed 000 writes it", () => {
  assert.deepEqual(rules.groups[0], seedGroup);
});

test('every alert has a promtool case where it fires and one where it stays silent', () => {
  const cases = (YAML.parse(readFileSync(rulesTestFile, 'utf8')) as RuleTestFile).tests.flatMap((t) => t.alert_rule_test);
  for (const rule of allRules) {
    const own = cases.filter((c) => c.alertname === rule.alert);
    assert.ok(own.some((c) => c.exp_alerts.length > 0), `${rule.alert}: no case where it fires`);
    assert.ok(own.some((c) => c.exp_alerts.length === 0), `${rule.alert}: no case where it stays silent`);
  }
});

test('every metric a rule reads is in METRICS.md with its type, labels and the rule that uses it', () => {
  const contract = readFileSync(metricsContractFile, 'utf8');
  const rows = new Map(contract.split('\n').filter((line) => line.startsWith('| `')).map((line) => [line.match(/^\| `([a-z_]+)`/)![1]!, line]));
  for (const rule of allRules) {
    const metrics = rule.expr.match(/\b(postgres_up|financial_integrity_check|backup_validation_success|dr_[a-z_]+)\b/g) ?? [];
    assert.ok(metrics.length > 0, `${rule.alert}: reads no metric of ours`);
    for (const metric of metrics) {
      const row = rows.get(metric);
      assert.ok(row, `${rule.alert} reads ${metric}, which METRICS.md does not document`);
      assert.match(row, /\| (gauge|counter|histogram) \| [a-z_, ]+ \|/, `${metric}: its row needs a type and labels`);
      assert.ok(row.includes(rule.alert), `${metric}: its row does not name ${rule.alert}`);
    }
  }
});

test('the short-`for` copy of the rules differs only in the `for:` durations longer than the limit', () => {
  const shipped = readFileSync(rulesFile, 'utf8');
  const short = withShortFor(shipped, '2s');
  const before = shipped.split('\n');
  const changed = short.split('\n').map((line, i) => [before[i], line]).filter(([a, b]) => a !== b);
  assert.deepEqual(changed, [['        for: 1m', '        for: 2s']]);
  const parsed = YAML.parse(short) as RuleFile;
  assert.equal(parsed.groups[0]!.rules[0]!.for, '2s');
  assert.deepEqual(parsed.groups.flatMap((g) => g.rules.map((r) => ({ ...r, for: undefined }))), allRules.map((r) => ({ ...r, for: undefined })));
});
