import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildVoteStatement, parseVoteStatement, VoteStatementError, type VoteStatement } from '../../lib/vote-statement';

const vote: VoteStatement = {
  namespace: 'default',
  workflowId: 'server-failure-INC-1234',
  runId: '0190b6a4-7f00-7000-8000-000000000001',
  gate: 'cutover',
  decision: 'approve',
  by: 'alice',
  comment: 'replica lag 2 s, checks green',
  time: '2026-12-01T03:04:05.000Z',
};

describe('vote statements: the text an approver signs', () => {
  test('one field per line in a fixed order, under a version line, ending in a line break', () => {
    assert.equal(buildVoteStatement(vote), [
      'dr-runbooks vote v1',
      'namespace: default',
      'workflow-id: server-failure-INC-1234',
      'run-id: 0190b6a4-7f00-7000-8000-000000000001',
      'gate: cutover',
      'decision: approve',
      'by: alice',
      'comment: replica lag 2 s, checks green',
      'time: 2026-12-01T03:04:05.000Z',
      '',
    ].join('\n'));
  });

  test('the same vote always gives the same bytes; a Date is written as toISOString writes it', () => {
    assert.equal(buildVoteStatement({ ...vote, time: new Date('2026-12-01T03:04:05Z') }), buildVoteStatement(vote));
    assert.equal(buildVoteStatement({ ...vote }), buildVoteStatement(vote));
  });

  test('every field changes the text (so a signature binds all of them)', () => {
    const base = buildVoteStatement(vote);
    const changes: Partial<VoteStatement>[] = [
      { namespace: 'prod' }, { workflowId: 'x' }, { runId: 'y' }, { gate: 'repair' }, { decision: 'reject' }, { by: 'bob' }, { comment: '' }, { time: '2026-12-01T03:04:05.001Z' },
    ];
    const texts = new Set(changes.map((change) => buildVoteStatement({ ...vote, ...change })));
    assert.equal(texts.size, changes.length);
    assert.ok(!texts.has(base));
  });

  test('an abort has an empty gate; any other decision needs one', () => {
    assert.match(buildVoteStatement({ ...vote, decision: 'abort', gate: '' }), /\ngate: \ndecision: abort\n/);
    assert.throws(() => buildVoteStatement({ ...vote, decision: 'abort' }), /vote gate: must be empty for abort/);
    assert.throws(() => buildVoteStatement({ ...vote, gate: '  ' }), /vote gate: must not be blank/);
  });

  test('an empty comment is allowed, blanks inside values are kept as they are', () => {
    assert.match(buildVoteStatement({ ...vote, comment: '' }), /\ncomment: \n/);
    assert.match(buildVoteStatement({ ...vote, comment: '  two  spaces ' }), /\ncomment:   two  spaces \n/);
  });

  const refused: Array<[string, Partial<Record<keyof VoteStatement, unknown>>, RegExp]> = [
    ['a line break in the comment (it could forge a line)', { comment: 'ok\ndecision: approve' }, /vote comment: contains the control character U\+000A at position 2/],
    ['a carriage return', { comment: 'ok\rx' }, /U\+000D/],
    ['a tab', { by: 'ali\tce' }, /vote by: contains the control character U\+0009/],
    ['NUL', { gate: 'cut\u0000over' }, /U\+0000/],
    ['DEL', { workflowId: 'a\u007f' }, /U\+007F/],
    ['a C1 control', { runId: 'a\u0085' }, /U\+0085/],
    ['a Unicode line separator', { comment: 'a\u2028b' }, /U\+2028/],
    ['a right-to-left override', { comment: 'approve \u202eevorppa' }, /U\+202E/],
    ['a lone surrogate', { comment: 'a\ud800' }, /lone surrogate U\+D800/],
    ['a blank approver', { by: '' }, /vote by: must not be blank/],
    ['a missing namespace', { namespace: undefined }, /vote namespace: must be text, got undefined/],
    ['a number for a run id', { runId: 42 }, /vote runId: must be text, got number/],
    ['an unknown decision', { decision: 'approved' }, /vote decision: must be one of approve, reject, abort/],
    ['a megabyte comment', { comment: 'x'.repeat(1_000_000) }, /vote comment: is 1000000 characters long; at most 4000/],
    ['a time with an offset', { time: '2026-12-01T04:04:05.000+01:00' }, /vote time: must be a UTC time like/],
    ['a time without milliseconds', { time: '2026-12-01T03:04:05Z' }, /vote time/],
    ['an impossible date', { time: '2026-02-30T03:04:05.000Z' }, /vote time/],
    ['an invalid Date', { time: new Date('nope') }, /vote time/],
  ];
  for (const [what, change, message] of refused) {
    test(`refuses ${what}, naming the field`, () => {
      assert.throws(() => buildVoteStatement({ ...vote, ...change } as VoteStatement), (error: unknown) => error instanceof VoteStatementError && message.test(error.message));
    });
  }

  test('parse reads back exactly what build wrote', () => {
    for (const v of [vote, { ...vote, comment: '' }, { ...vote, decision: 'abort' as const, gate: '' }, { ...vote, comment: 'ünïcödé — fine 😀' }]) {
      assert.deepEqual(parseVoteStatement(buildVoteStatement(v)), v);
    }
  });

  test('parse refuses anything build would not write', () => {
    const text = buildVoteStatement(vote);
    const bad: Array<[string, string, RegExp]> = [
      ['no final line break', text.slice(0, -1), /must end with a line break/],
      ['another version', text.replace('vote v1', 'vote v2'), /must start with the line "dr-runbooks vote v1"/],
      ['an extra line', text + 'extra: 1\n', /must have 9 lines, has 10/],
      ['fields out of order', text.replace('gate: cutover\ndecision: approve', 'decision: approve\ngate: cutover'), /vote gate: line 5 must start with "gate: "/],
      ['CRLF line breaks', text.replace(/\n/g, '\r\n'), /must start with the line/],
      ['a missing space after the colon', text.replace('by: alice', 'by:alice'), /vote by: line 7 must start with "by: "/],
      ['an unknown decision', text.replace('decision: approve', 'decision: yes'), /vote decision: must be one of/],
    ];
    for (const [what, input, message] of bad) {
      assert.throws(() => parseVoteStatement(input), message, what);
    }
  });
});
