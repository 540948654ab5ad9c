import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeIssues, inputFields, runbookInput } from '../../contracts/inputs';
import { recoverFromRegionOutageInput } from '../../workflows/recover-from-region-outage';

// One test per field rule of the input every runbook shares (the CLI validates with the same schema).
const valid = { incidentId: 'INC-2041', startedBy: 'carol' };

function problem(input: unknown): string {
  const parsed = runbookInput.safeParse(input);
  assert.ok(!parsed.success, `expected ${JSON.stringify(input)} to be refused`);
  return describeIssues(parsed.error, inputFields(runbookInput));
}

test('a minimal input gets the defaults: environment local, mode real', () => {
  assert.deepEqual(runbookInput.parse(valid), { ...valid, environment: 'local', mode: 'real' });
});

test('incidentId is required', () => {
  assert.equal(problem({ startedBy: 'carol' }), 'incidentId: is required');
});

test('incidentId must be an incident id (no spaces, no URLs)', () => {
  assert.match(problem({ ...valid, incidentId: 'INC 2041' }), /^incidentId: must be an incident id/);
  assert.match(problem({ ...valid, incidentId: 'x'.repeat(65) }), /^incidentId: must be an incident id/);
});

test('environment must be a config name', () => {
  assert.match(problem({ ...valid, environment: 'Production' }), /^environment: must be a config name/);
});

test('mode must be real or drill', () => {
  assert.equal(problem({ ...valid, mode: 'test' }), 'mode: must be "real" or "drill" (a drill never touches production)');
});

test('declaredAt must be an ISO 8601 time with a zone', () => {
  assert.match(problem({ ...valid, declaredAt: '2026-11-23 03:12' }), /^declaredAt: must be an ISO 8601 time with a zone/);
  assert.equal(runbookInput.parse({ ...valid, declaredAt: '2026-11-23T03:12:00+01:00' }).declaredAt, '2026-11-23T03:12:00+01:00');
});

test('startedBy is required and not blank', () => {
  assert.equal(problem({ incidentId: 'INC-1' }), 'startedBy: is required');
  assert.match(problem({ ...valid, startedBy: '   ' }), /^startedBy: must name who starts the runbook/);
});

test('unknown fields are refused, each named (a secret pasted into the wrong field does not slip through)', () => {
  assert.match(problem({ ...valid, password: 'hunter2' }), /^"password": is not a field of this input \(its fields: incidentId, environment, mode, declaredAt, startedBy\)$/);
  assert.ok(!problem({ ...valid, password: 'hunter2' }).includes('hunter2'), 'the value is never repeated');
  assert.match(problem({ ...valid, startedby: 'carol', incidentID: 'x' }), /"startedby": is not a field of this input \(did you mean startedBy\?\); "incidentID": is not a field of this input \(did you mean incidentId\?\)/);
});

test('a misspelt field of a scenario is named, with the field meant, through its transforms', () => {
  const parsed = recoverFromRegionOutageInput.safeParse({ ...valid, replcia: 'dr-replica' });
  assert.ok(!parsed.success);
  assert.match(describeIssues(parsed.error, inputFields(recoverFromRegionOutageInput)), /"replcia": is not a field of this input \(did you mean replica\?\)/);
});

test('startedBy refuses control characters (no name can forge a line)', () => {
  assert.match(problem({ ...valid, startedBy: 'carol\napproved by bob' }), /startedBy: must not contain control characters/);
  assert.match(problem({ ...valid, startedBy: 'carol\u202e' }), /startedBy: must not contain control characters/);
});

test('every failing field is named at once', () => {
  const message = problem({ incidentId: '', mode: 'x' });
  assert.match(message, /incidentId: /);
  assert.match(message, /mode: /);
  assert.match(message, /startedBy: /);
});
