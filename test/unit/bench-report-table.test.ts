import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatMegabytes, formatSeconds, median, renderTable } from '../../bench/report-table';

describe('bench report table', () => {
  it('lines up every column and lists the notes under the table', () => {
    const text = renderTable([
      { name: 'validation gate / one SQL statement', figure: '1.20 s', raw: '1.00 s', ratio: 1.2, goal: '≤ 1.2', met: true, note: 'median of 3' },
      { name: 'failover', figure: '12.0 s', goal: '≤ 10 s', met: false },
      { name: 'diff', figure: 'error', goal: '—', met: undefined },
    ]);
    const lines = text.split('\n');
    assert.deepEqual(lines[0]!.split(/\s{2,}/), ['benchmark', 'figure', 'raw', 'ratio', 'goal', 'verdict']);
    assert.deepEqual(lines[2]!.split(/\s{2,}/), ['validation gate / one SQL statement', '1.20 s', '1.00 s', '1.20', '≤ 1.2', 'met']);
    assert.deepEqual(lines[3]!.split(/\s{2,}/), ['failover', '12.0 s', '—', '—', '≤ 10 s', 'NOT met']);
    assert.equal(lines[4]!.trimEnd().endsWith('—'), true);
    // Columns start at the same offset on every row.
    assert.equal(lines[2]!.indexOf('1.20 s'), lines[3]!.indexOf('12.0 s'));
    assert.deepEqual(lines.slice(-2), ['', '* validation gate / one SQL statement: median of 3']);
  });

  it('formats seconds, megabytes and the median', () => {
    assert.equal(formatSeconds(1234), '1.23 s');
    assert.equal(formatSeconds(12_345), '12.3 s');
    assert.equal(formatMegabytes(204_800), '200 MB');
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2);
    assert.throws(() => median([]), /no values/);
  });
});
