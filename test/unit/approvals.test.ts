import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GatePlan } from '../../contracts/runbook-plan';
import { ApprovalGates } from '../../workflows/gates/gate-state';

// The gate rules as pure logic: the same validator the Update handlers run synchronously.
const plan = (overrides: Partial<GatePlan> = {}): GatePlan => ({ approvers: ['alice', 'bob', 'carol'], quorum: 2, twoPersonRule: true, escalation: [], deadlineMs: 60_000, ...overrides });

function openGates(plans: Record<string, GatePlan> = { cutover: plan(), 'sign-off': plan({ twoPersonRule: false }) }, startedBy = 'carol') {
  const gates = new ApprovalGates(plans, startedBy);
  gates.open('cutover', 0);
  return gates;
}

test('refuses an unknown gate', () => {
  assert.match(openGates().refusal('approve', { gate: 'cutovr', approver: 'alice' })!, /^unknown gate "cutovr" \(this runbook's gates: cutover, sign-off\)/);
});

test('refuses a gate that is not open now', () => {
  assert.match(openGates().refusal('approve', { gate: 'sign-off', approver: 'alice' })!, /gate "sign-off" is not open now/);
});

test('refuses a gate already decided', () => {
  const gates = openGates();
  gates.apply('reject', { gate: 'cutover', approver: 'bob' }, 't1');
  assert.match(gates.refusal('approve', { gate: 'cutover', approver: 'alice' })!, /gate "cutover" is already decided \(rejected\)/);
});

test('refuses an approver not on the list', () => {
  assert.match(openGates().refusal('approve', { gate: 'cutover', approver: 'mallory' })!, /"mallory" is not on the approver list of gate "cutover" \(alice, bob, carol\)/);
});

test('refuses the starter under the two-person rule, whatever the case or spacing of the name', () => {
  assert.match(openGates().refusal('approve', { gate: 'cutover', approver: ' Carol ' })!, /two-person rule: " Carol " started this runbook/);
});

test('lets the starter approve when the two-person rule is off', () => {
  const gates = new ApprovalGates({ 'sign-off': plan({ twoPersonRule: false }) }, 'carol');
  gates.open('sign-off', 0);
  assert.equal(gates.refusal('approve', { gate: 'sign-off', approver: 'carol' }), undefined);
});

test('refuses a second vote by the same person (approve then approve, or approve then reject)', () => {
  const gates = openGates();
  gates.apply('approve', { gate: 'cutover', approver: 'alice' }, 't1');
  assert.match(gates.refusal('approve', { gate: 'cutover', approver: 'ALICE' })!, /"ALICE" has already voted on gate "cutover"/);
  assert.match(gates.refusal('reject', { gate: 'cutover', approver: 'alice' })!, /"alice" has already voted/);
});

test('refuses a malformed payload, naming the field', () => {
  const gates = openGates();
  assert.match(gates.refusal('approve', null)!, /must be an object/);
  assert.match(gates.refusal('approve', { approver: 'alice' })!, /^gate: required/);
  assert.match(gates.refusal('approve', { gate: 'cutover', approver: '  ' })!, /^approver: required/);
  assert.match(gates.refusal('approve', { gate: 'cutover', approver: 'alice', comment: 'x'.repeat(1001) })!, /^comment: must be text of at most 1000/);
});

test('refuses every vote once frozen (aborted or ended)', () => {
  const gates = openGates();
  gates.freeze('the runbook was aborted by dave');
  assert.equal(gates.refusal('approve', { gate: 'cutover', approver: 'alice' }), 'the runbook was aborted by dave');
});

test('quorum: one approval of two keeps the gate open; the second distinct approval approves it', () => {
  const gates = openGates();
  assert.deepEqual(gates.apply('approve', { gate: 'cutover', approver: 'alice', comment: 'ok' }, 't1'), { gate: 'cutover', status: 'open', approvals: ['alice'], approvalsStillNeeded: 1 });
  assert.deepEqual(gates.view('cutover').stillMayApprove, ['bob'], 'carol is the starter, alice has voted');
  assert.deepEqual(gates.apply('approve', { gate: 'cutover', approver: 'bob' }, 't2'), { gate: 'cutover', status: 'approved', approvals: ['alice', 'bob'], approvalsStillNeeded: 0 });
  const view = gates.view('cutover');
  assert.equal(view.decidedAt, 't2');
  assert.deepEqual(view.stillMayApprove, []);
});

test('one rejection closes the gate as rejected, even after approvals', () => {
  const gates = openGates();
  gates.apply('approve', { gate: 'cutover', approver: 'alice' }, 't1');
  const outcome = gates.apply('reject', { gate: 'cutover', approver: 'bob', comment: 'checks failed' }, 't2');
  assert.equal(outcome.status, 'rejected');
  assert.deepEqual(gates.view('cutover').rejection, { approver: 'bob', at: 't2', comment: 'checks failed' });
});

test('the starter may reject under the two-person rule (stopping is always allowed)', () => {
  assert.equal(openGates().refusal('reject', { gate: 'cutover', approver: 'carol' }), undefined);
});
