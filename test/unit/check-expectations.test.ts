import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeExpectation, judge } from '../../activities/validation/checks';
import { parentsFirst, type ForeignKey } from '../../activities/validation/schema-catalog';

test('value expectations are judged exactly and explain themselves', () => {
  assert.deepEqual(judge({ kind: 'equals', value: '10.50' }, '10.5'), { pass: true, reason: '10.5 equals 10.50' });
  assert.deepEqual(judge({ kind: 'equals', value: '10' }, '11'), { pass: false, reason: '11 is not 10' });
  assert.deepEqual(judge({ kind: 'withinRange', min: '198', max: '202' }, '197'), { pass: false, reason: '197 is below the minimum 198' });
  assert.deepEqual(judge({ kind: 'withinRange', max: '900' }, '900.001'), { pass: false, reason: '900.001 is above the maximum 900' });
  assert.equal(judge({ kind: 'withinRange', min: '198', max: '202' }, '202').pass, true);
  assert.deepEqual(judge({ kind: 'withinRelativeToleranceOfBaseline', baseline: '4000', tolerance: 0.01 }, '3959'), { pass: false, reason: '3959 is not within 1% of baseline 4000' });
  assert.equal(judge({ kind: 'withinRelativeToleranceOfBaseline', baseline: '-1000.00', tolerance: 0.01 }, '-1009.99').pass, true);
  assert.deepEqual(judge({ kind: 'withinRange', min: '1' }, null), { pass: false, reason: 'the query returned no value (NULL)' });
  assert.equal(describeExpectation({ kind: 'zeroRows' }), 'no rows');
  assert.equal(describeExpectation({ kind: 'withinRelativeToleranceOfBaseline', baseline: '5', tolerance: 0.07 }), 'within 7% of baseline 5');
  assert.equal(describeExpectation({ kind: 'withinRelativeToleranceOfBaseline', baseline: '5', tolerance: 0.005 }), 'within 0.5% of baseline 5');
  assert.equal(describeExpectation({ kind: 'withinRelativeToleranceOfBaseline', baseline: '5', tolerance: 1 }), 'within 100% of baseline 5');
  assert.equal(describeExpectation({ kind: 'withinRelativeToleranceOfBaseline', baseline: '5', tolerance: 0.1 }), 'within 10% of baseline 5');
  assert.equal(describeExpectation({ kind: 'withinRange', min: '1' }), 'at least 1');
});

const fk = (childTable: string, parentTable: string): ForeignKey => ({ name: `${childTable}_fk`, childTable, childColumns: ['x'], childKeyColumns: ['id'], parentTable, parentColumns: ['id'], validated: true, disabledTriggers: 0 });

test('tables are ordered parents first, ignoring self-references and tables not asked for', () => {
  const keys = [fk('transactions', 'accounts'), fk('transactions', 'users'), fk('accounts', 'users'), fk('users', 'users'), fk('audit_logs', 'users'), fk('accounts', 'branches')];
  assert.deepEqual(parentsFirst(['transactions', 'accounts', 'users'], keys), ['users', 'accounts', 'transactions']);
  assert.deepEqual(parentsFirst(['transactions', 'audit_logs'], keys), ['audit_logs', 'transactions']);
  // A cycle still yields every table once.
  assert.deepEqual(parentsFirst(['a', 'b'], [fk('a', 'b'), fk('b', 'a')]).sort(), ['a', 'b']);
});
