import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totalsNow, vanishedRanges, type SegmentNow, type TableSegments } from '../../activities/validation/block-segments';
import type { CheckDefinition } from '../../activities/validation/checks';
import { restrictChecks, type TableChange } from '../../activities/validation/incremental-checks';
import { lsnToBigInt } from '../../activities/validation/wal-anchor';
import type { ForeignKey } from '../../activities/validation/schema-catalog';

const segments: TableSegments = {
  relation: { tablespace: 1663, database: 5, filenode: 16400 },
  segmentBlocks: 4,
  blocks: 8,
  key: 'id',
  money: ['amount'],
  segments: [
    { index: 0, rows: '10', money: { amount: { sum: '100.00', absSum: '120.00' } }, minKey: '1', maxKey: '10' },
    { index: 1, rows: '5', money: { amount: { sum: '-5.00', absSum: '15.00' } }, minKey: '11', maxKey: '15' },
  ],
};
const segmentNow = (index: number, oldRows: string, oldSum: string, newRows: string, newSum: string): SegmentNow => ({
  index, oldRows, oldMoney: { amount: { sum: oldSum, absSum: oldSum.replace('-', '') } }, newRows, newMoney: { amount: { sum: newSum, absSum: newSum.replace('-', '') } }, newTids: [], newInPast: 0,
});

test("a table's totals now are the baseline's, less what left the changed segments, plus what was written there, to the cent", () => {
  const baseline = { rows: '15', money: { amount: { sum: '95.00', absSum: '135.00' } } };
  // Segment 1: one row (−1.00) gone, two written (+3.50); segment 2 is new since the baseline.
  const now = totalsNow(baseline, segments, [segmentNow(1, '4', '-4.00', '2', '3.50'), segmentNow(2, '0', '0', '3', '0.03')]);
  assert.equal(now.rows, '19');
  assert.equal(now.money.amount!.sum, '99.53'); // 95.00 + 1.00 (the row gone was −1.00) + 3.50 + 0.03
  assert.deepEqual(vanishedRanges(segments, [segmentNow(0, '10', '100.00', '1', '1.00'), segmentNow(1, '4', '-4.00', '0', '0')]), [{ index: 1, lost: '1', minKey: '11', maxKey: '15' }]);
});

test('LSNs order as numbers, not as text', () => {
  assert.ok(lsnToBigInt('0/A0000000') > lsnToBigInt('0/9FFFFFFF'));
  assert.ok(lsnToBigInt('1/0') > lsnToBigInt('0/FFFFFFFF'));
});

const fk: ForeignKey = { name: 'transactions_account_id_fkey', childTable: 'transactions', childColumns: ['account_id'], childKeyColumns: ['id'], parentTable: 'accounts', parentColumns: ['id'], validated: true, disabledTriggers: 0 };
const orphans: CheckDefinition = {
  id: `orphans:transactions.${fk.name}`, name: 'No orphaned records', sql: 'SELECT 1 WHERE false', expectation: { kind: 'zeroRows' }, timeoutMs: 1000,
  screen: { kind: 'orphans', table: 'transactions', columns: ['account_id'], parent: 'accounts', parentColumns: ['id'] },
};
const change = (c: Partial<TableChange>): TableChange => ({ newTids: [], vanished: [], key: 'id', small: false, ...c });

test('an orphan check is restricted to the rows written since and to the children of the parents gone since; over small tables it runs whole', () => {
  const restricted = restrictChecks([orphans], { foreignKeys: [fk], resolved: new Map(), changes: new Map([['transactions', change({ newTids: ['(3,1)'] })], ['accounts', change({ vanished: [{ minKey: '40', maxKey: '52' }] })]]) });
  assert.deepEqual(restricted.whole, []);
  assert.match(restricted.checks[0]!.sql, /ctid = ANY\(\$1::tid\[\]\).*"?account_id"? BETWEEN \$2 AND \$3/s);
  assert.deepEqual(restricted.checks[0]!.params, [['(3,1)'], '40', '52']);
  assert.equal(restricted.checks[0]!.screen, undefined, 'not screened with the whole table: the restriction runs its own query');
  const small = restrictChecks([orphans], { foreignKeys: [fk], resolved: new Map(), changes: new Map([['transactions', change({ small: true })], ['accounts', change({ small: true })]]) });
  assert.equal(small.checks[0], orphans, 'the full check, unchanged');
});

test("a parent gone since whose keys the baseline cannot bound: the check runs whole, and the report says which", () => {
  const restricted = restrictChecks([orphans], { foreignKeys: [fk], resolved: new Map(), changes: new Map([['transactions', change({})], ['accounts', change({ vanished: [{ minKey: null, maxKey: null }] })]]) });
  assert.deepEqual(restricted.whole, [orphans.id]);
  assert.equal(restricted.checks[0], orphans);
});
