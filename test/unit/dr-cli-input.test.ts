import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { z } from 'zod';
import { buildScenarioInput } from '../../client/commands/start';
import { CliError, ExitCode } from '../../client/connection';
import { findScenario, runbookFlags, type ScenarioEntry } from '../../client/scenarios';
import { changedLines } from '../../client/status-view';
import { runbookFields } from '../../contracts/inputs';
import type { RunbookStatus } from '../../contracts/runbook-status';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-cli-input-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const entry: ScenarioEntry = {
  name: 'example',
  workflowType: 'recoverFromExample',
  description: 'an example runbook',
  input: z.strictObject({ ...runbookFields, replicas: z.number().int().min(1), region: z.string().default('us-west-2') }),
  kind: 'runbook',
  defaults: { region: 'eu-west-1' },
  flags: [...runbookFlags, { flag: '--replicas <n>', field: 'replicas', description: 'how many', parse: Number }, { flag: '--region <name>', field: 'region', description: 'where' }],
};

function file(name: string, content: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

function refusal(fn: () => unknown): CliError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof CliError, String(error));
    return error;
  }
  assert.fail('expected a refusal');
}

test('the input is the defaults, then the --input file, then the flags given; parsed with the workflow schema', () => {
  assert.deepEqual(buildScenarioInput(entry, {}, { incident: 'INC-1', as: 'carol', replicas: '2' }), { incidentId: 'INC-1', startedBy: 'carol', replicas: 2, region: 'eu-west-1', environment: 'local', mode: 'real' });
  const input = file('input.json', JSON.stringify({ incidentId: 'INC-2', startedBy: 'dave', replicas: 3, region: 'ap-south-1', mode: 'drill' }));
  assert.deepEqual(buildScenarioInput(entry, { input }, { input, as: 'erin' }), { incidentId: 'INC-2', startedBy: 'erin', replicas: 3, region: 'ap-south-1', environment: 'local', mode: 'drill' });
});

test('a bad input names each field with its flag and is a usage error (exit 2)', () => {
  const error = refusal(() => buildScenarioInput(entry, {}, { incident: 'INC 1', replicas: 'two', mode: 'live' }));
  assert.equal(error.exitCode, ExitCode.Usage);
  assert.match(error.message, /^invalid input for example \(recoverFromExample\): /);
  assert.match(error.message, /incidentId \(--incident\): must be an incident id/);
  assert.match(error.message, /startedBy \(--as\): is required/);
  assert.match(error.message, /replicas \(--replicas\): /);
  assert.match(error.message, /mode \(--mode\): must be "real" or "drill"/);
  assert.match(error.message, /; nothing was started$/);
  const extra = refusal(() => buildScenarioInput(entry, { input: file('extra.json', '{"incidentId":"INC-3","startedBy":"a","replicas":1,"password":"x"}') }, {}));
  // An unknown field is named, never its value, with the field (and flag) meant when one is close.
  assert.match(extra.message, /"password": is not a field of this input \(its fields: incidentId, environment, mode, declaredAt, startedBy, replicas, region\)/);
  assert.ok(!extra.message.includes('"x"'));
  const typo = refusal(() => buildScenarioInput(entry, { input: file('typo.json', '{"incidentId":"INC-3","startedBy":"a","replica":1}') }, {}));
  assert.match(typo.message, /"replica": is not a field of this input \(did you mean replicas \(--replicas\)\?\)/);
});

test('an unreadable or non-object --input file is a usage error naming --input', () => {
  assert.match(refusal(() => buildScenarioInput(entry, { input: file('broken.json', '{"incidentId": ') }, {})).message, /^--input: .*broken\.json is not JSON/);
  assert.match(refusal(() => buildScenarioInput(entry, { input: file('list.json', '[]') }, {})).message, /^--input: .*must hold one JSON object/);
  assert.equal(refusal(() => buildScenarioInput(entry, { input: path.join(dir, 'missing.json') }, {})).exitCode, ExitCode.Usage);
});

test('assess is registered and keeps its default database', () => {
  const assess = findScenario('assess')!;
  assert.equal(assess.workflowType, 'assessDatabaseHealth');
  assert.deepEqual(buildScenarioInput(assess, {}, {}), { database: 'production', environment: 'local' });
  assert.equal(findScenario('no-such-scenario'), undefined);
});

function status(overrides: Partial<RunbookStatus> = {}): RunbookStatus {
  return {
    workflowId: 'w', scenario: 'example', mode: 'real', environment: 'local', incidentId: 'INC-1', startedBy: 'carol', phase: 'running', currentStep: 'restore',
    timeline: [{ step: 'restore', startedAt: '2026-11-23T03:00:00.000Z', outcome: 'running' }],
    openGates: [], gates: [],
    rto: { objectiveSeconds: 3600, declaredAt: '2026-11-23T03:00:00.000Z', elapsedSeconds: 5 },
    rpo: { objectiveSeconds: 900 }, compensations: [],
    ...overrides,
  };
}

test('watching without a terminal prints each change once: new and changed timeline lines, phase, the final clocks and verdict', () => {
  const seen = new Map<string, string>();
  assert.deepEqual(changedLines(seen, status()), ['example · INC-1 · local · started by carol · w', 'phase: running · current step: restore', '03:00:00Z → …          …  running    restore']);
  assert.deepEqual(changedLines(seen, status({ rto: { objectiveSeconds: 3600, declaredAt: '2026-11-23T03:00:00.000Z', elapsedSeconds: 9 } })), [], 'a ticking RTO clock is not a change');
  const ended = status({
    phase: 'finished', currentStep: undefined, verdict: 'completed',
    timeline: [{ step: 'restore', startedAt: '2026-11-23T03:00:00.000Z', endedAt: '2026-11-23T03:01:30.000Z', outcome: 'succeeded' }],
    rto: { objectiveSeconds: 3600, declaredAt: '2026-11-23T03:00:00.000Z', cutoverVerifiedAt: '2026-11-23T03:01:30.000Z', elapsedSeconds: 90, withinObjective: true },
  });
  assert.deepEqual(changedLines(seen, ended), [
    'phase: finished',
    '03:00:00Z → 03:01:30Z  1 min 30 s  succeeded  restore',
    'RTO: 1 min 30 s of 1 h objective ✅ (cutover verified at 2026-11-23T03:01:30.000Z, declared 2026-11-23T03:00:00.000Z)',
    'verdict: COMPLETED',
  ]);
});
