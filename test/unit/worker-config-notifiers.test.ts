import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { workerConfigSchema } from '../../worker/config';
import { scenarioNames } from '../../workflows/scenarios';

const base = { databases: { production: { port: 5432, database: 'mita', user: 'app', passwordSecret: 'pw' } } };
const problems = (extra: Record<string, unknown>) => {
  const parsed = workerConfigSchema.safeParse({ ...base, ...extra });
  assert.ok(!parsed.success, 'the config should be refused');
  return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

const channels = [
  { type: 'slack', name: 'incidents', webhookUrlSecret: 'slack-incidents-webhook', channel: '#incidents' },
  { type: 'slack', name: 'leadership', webhookUrlSecret: 'slack-leadership-webhook', escalationsOnly: true },
  { type: 'pagerduty', name: 'oncall', routingKeySecret: 'pagerduty-dr', severity: { 'failed-migration': 'warning' } },
  { type: 'statuspage', pageId: 'pg1abc', apiKeySecret: 'statuspage-key', customerFacingScenarios: ['server-failure', 'region-outage'], components: ['cmp1'] },
  { type: 'webhook', name: 'audit', url: 'https://hooks.example.com/dr', signingSecret: 'dr-webhook-signing' },
];
const audiences = { 'technical-team': ['incidents', 'oncall'], management: ['leadership'], executives: ['leadership', 'audit'] };

describe('notifier config', () => {
  test('every channel type, the audiences map and the application name load as written', () => {
    const config = workerConfigSchema.parse({ ...base, notifiers: channels, audiences, messages: { application: 'MITA', webUiUrl: 'http://temporal-ui:8080' } });
    assert.equal(config.notifiers.length, 5);
    assert.deepEqual(config.audiences, audiences);
    assert.deepEqual(config.messages, { application: 'MITA', webUiUrl: 'http://temporal-ui:8080', statusUpdateEvery: '30 minutes' });
    const pagerduty = config.notifiers[2]!;
    assert.ok(pagerduty.type === 'pagerduty');
    assert.equal(pagerduty.drills, false);
    const statuspage = config.notifiers[3]!;
    assert.ok(statuspage.type === 'statuspage');
    assert.equal(statuspage.deliverNotifications, true);
  });

  test('without notifiers the console is the one channel, and messages default to no application name', () => {
    const config = workerConfigSchema.parse(base);
    assert.deepEqual(config.notifiers, [{ type: 'console' }]);
    assert.deepEqual(config.messages, { statusUpdateEvery: '30 minutes' }, 'the seed plan\'s cadence');
    assert.equal(config.audiences, undefined);
  });

  test('a missing secret name, an unknown type or key, a bad URL or scenario is refused naming the field', () => {
    assert.deepEqual(problems({ notifiers: [{ type: 'slack' }] }), ['notifiers.0.webhookUrlSecret: Invalid input: expected string, received undefined']);
    assert.deepEqual(problems({ notifiers: [{ type: 'email', to: 'x' }] }), ['notifiers.0.type: must be one of console, slack, pagerduty, statuspage, webhook']);
    assert.deepEqual(problems({ notifiers: [{ type: 'slack', webhookUrl: 'https://hooks.slack.com/services/T/B/x', webhookUrlSecret: 's' }] }), ['notifiers.0: Unrecognized key: "webhookUrl"']);
    assert.deepEqual(problems({ notifiers: [{ type: 'webhook', url: 'ftp://x', signingSecret: 's' }] }), ['notifiers.0.url: must be an http(s) URL']);
    assert.deepEqual(problems({ notifiers: [{ type: 'statuspage', pageId: 'p1', apiKeySecret: 'k', customerFacingScenarios: ['outage'] }] }), [
      `notifiers.0.customerFacingScenarios.0: must be a scenario: ${scenarioNames.join(', ')}`,
    ]);
    assert.deepEqual(problems({ notifiers: [{ type: 'statuspage', pageId: 'p1', apiKeySecret: 'k', customerFacingScenarios: [] }] }), [
      'notifiers.0.customerFacingScenarios: name the scenarios customers see (e.g. server-failure, region-outage)',
    ]);
    assert.deepEqual(problems({ notifiers: [{ type: 'pagerduty', routingKeySecret: '  ' }] }), [`notifiers.0.routingKeySecret: must be the name of a secret (resolved by the worker's secret store, or DR_SECRET_<NAME> or a file in secretsDir): 1-128 of letters, digits, '.', '_' and '-', starting with a letter or digit`]);
  });

  test('a credential named with a path or a space is refused at start-up, not when the notice is sent', () => {
    const rule = "1-128 of letters, digits, '.', '_' and '-', starting with a letter or digit";
    assert.deepEqual(problems({ notifiers: [{ type: 'pagerduty', routingKeySecret: '../../etc/shadow' }] }), [`notifiers.0.routingKeySecret: must be the name of a secret (resolved by the worker's secret store, or DR_SECRET_<NAME> or a file in secretsDir): ${rule}`]);
    assert.deepEqual(problems({ notifiers: [{ type: 'pagerduty', routingKeySecret: 'pager duty' }] }).length, 1);
  });

  test('two channels of one name, or an audience naming a channel that does not exist, are refused', () => {
    assert.deepEqual(problems({ notifiers: [channels[0], { ...channels[0] }] }), ['notifiers.1.name: two notifiers are called "incidents" (notifiers.0 too): give each its own name']);
    assert.deepEqual(problems({ notifiers: [{ type: 'slack', webhookUrlSecret: 'a' }, { type: 'slack', webhookUrlSecret: 'b' }] }), ['notifiers.1.name: two notifiers are called "slack" (notifiers.0 too): give each its own name']);
    assert.deepEqual(problems({ notifiers: channels, audiences: { ...audiences, management: ['leadership', 'exec-phone'] } }), [
      'audiences.management.1: no notifier is called "exec-phone" (known: incidents, leadership, oncall, statuspage, audit)',
    ]);
  });

  test('every audience the escalation ladder notifies must have channels once there is a map', () => {
    assert.deepEqual(problems({ notifiers: channels, audiences: { 'technical-team': ['incidents'], management: ['leadership'] } }), [
      'audiences: approvals.escalation notifies "executives", which has no channels here: add audiences.executives: [<channel>, …]',
    ]);
    const gateLadder = { gates: { cutover: { approvers: ['alice'], escalation: [{ after: '5 minutes', notify: 'dba-oncall' }] } } };
    assert.deepEqual(problems({ notifiers: channels, audiences, approvals: gateLadder }), [
      'audiences: approvals.gates.cutover.escalation notifies "dba-oncall", which has no channels here: add audiences.dba-oncall: [<channel>, …]',
    ]);
  });

  test('a channel that hears only escalations but is in no audience would hear nothing: refused', () => {
    assert.deepEqual(problems({ notifiers: channels, audiences: { ...audiences, management: ['incidents'], executives: ['audit'] } }), [
      'notifiers.1.escalationsOnly: "leadership" hears only escalations but no audience lists it, so it would hear nothing',
    ]);
  });
});
