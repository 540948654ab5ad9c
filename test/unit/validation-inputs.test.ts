import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { captureBaselineInput, findValidationBaselineInput, parseInput, recordBaselineVerdictInput, runValidationChecksInput } from '../../activities/validation/inputs';

// The validation activities' inputs come from workflows, the bench and the CLI: a bad value is refused
// before any query, naming the field, and never retried (it will not become valid).
function refusal(schema: Parameters<typeof parseInput>[0], input: unknown): string {
  try {
    parseInput(schema, input);
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, 'InvalidInput');
    assert.equal(error.nonRetryable, true);
    return error.message;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

const backup = { label: 'L1', startedAt: '2025-08-11T12:00:00Z', stoppedAt: '2025-08-11T12:01:00Z' };

test('runValidationChecks: each field with a bad value is named with what it must be', () => {
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ incremental: 'yes' }, 'incremental: must be true or false'],
    [{ incremental: 1 }, 'incremental: must be true or false'],
    [{ recency: 'no' }, 'recency: must be true or false'],
    [{ baselineKey: '../other/baseline.json' }, 'baselineKey: must be an ObjectStore key as returned by an earlier activity'],
    [{ baselineKey: '/etc/passwd' }, 'baselineKey: must be an ObjectStore key as returned by an earlier activity'],
    [{ notDatedAfter: 'later' }, 'notDatedAfter: must be "incident" or "now"'],
    [{ checkTimeoutSeconds: 0 }, 'checkTimeoutSeconds: must be more than 0 seconds'],
    [{ checkTimeoutSeconds: 7200 }, 'checkTimeoutSeconds: must be at most 3600 seconds (an hour)'],
    [{ checkTimeoutSeconds: '60' }, 'checkTimeoutSeconds: must be a number of seconds'],
    [{ rpoSeconds: 1.5 }, 'rpoSeconds: must be a whole number of seconds'],
    [{ rpoSeconds: -1 }, 'rpoSeconds: must be more than 0 seconds'],
    [{ incidentTime: '2025-08-11 12:00' }, 'incidentTime: must be an ISO 8601 instant with a time zone, e.g. 2025-08-11T12:00:00Z'],
    [{ noBaseline: 'x'.repeat(1001) }, 'noBaseline:'],
    [{ database: 'Prod DB' }, 'database: must be a config name'],
    [{ incrementall: true }, '"incrementall": is not a field of this input'],
  ];
  for (const [input, message] of bad) {
    const got = refusal(runValidationChecksInput, { database: 'production', ...input });
    assert.ok(got.startsWith(message), `${JSON.stringify(input)}: ${got}`);
  }
});

test('runValidationChecks: the values workflows and the bench send are accepted as given', () => {
  const input = { database: 'production', baselineKey: 'baselines/production/L1.json', incidentTime: '2025-08-11T12:00:00Z', rpoSeconds: 900, checkTimeoutSeconds: 300, recency: false, notDatedAfter: 'now', incremental: false } as const;
  assert.deepEqual(parseInput(runValidationChecksInput, input), input);
  assert.deepEqual(parseInput(runValidationChecksInput, { database: 'production' }), { database: 'production' });
});

test('the baseline activities: a bad recovery target, backup label or stage is named', () => {
  assert.match(refusal(findValidationBaselineInput, { database: 'production', at: 'yesterday' }), /^at: must be an ISO 8601 instant/);
  assert.match(refusal(captureBaselineInput, { database: 'production', backup: { ...backup, label: 'x y' } }), /^backup\.label: must be the backup's label/);
  assert.match(refusal(captureBaselineInput, { database: 'production', backup: { ...backup, stoppedAt: 'soon' } }), /^backup\.stoppedAt: must be an ISO 8601 instant/);
  assert.match(refusal(recordBaselineVerdictInput, { database: 'production', backup, verification: { ok: true, report: '' }, failedAt: 'later' }), /^failedAt: must be "verify", "restore" or "measure"/);
  assert.match(refusal(recordBaselineVerdictInput, { database: 'production', backup, verification: { ok: 'yes', report: '' } }), /^verification\.ok:/);
});
