import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { auditRowHash, canonicalAuditRow, canonicalJson, canonicalTimestamp, chainAuditRows, GENESIS_HASH, NotCanonicalJsonError, type AuditRowContent } from '../../activities/audit-hash';
import { findChainProblems, type StoredAuditRow } from '../../activities/audit';
import { findSecretLikeValues } from '../../activities/audit-secrets';

describe('canonicalJson (RFC 8785)', () => {
  test('sorts object keys at every depth, keeps array order, writes no whitespace', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }, 1], c: null } }), '{"a":{"c":null,"d":[3,{"y":2,"z":1},1]},"b":1}');
  });

  test('orders keys by UTF-16 code units (uppercase before lowercase, astral by surrogates)', () => {
    assert.equal(canonicalJson({ a: 1, B: 2, '\u00e9': 3, '\ud83d\ude00': 4, '\uffff': 5 }), '{"B":2,"a":1,"\u00e9":3,"\ud83d\ude00":4,"\uffff":5}');
  });

  test('escapes strings as JSON.stringify does and leaves other characters literal', () => {
    assert.equal(canonicalJson('q"b\\n\n\t\u0001€😀'), '"q\\"b\\\\n\\n\\t\\u0001€😀"');
  });

  test('writes numbers in ECMAScript form: -0 is 0, large ones with an exponent', () => {
    assert.equal(canonicalJson([-0, 0.1, 1e21, 1e-7, 123456789012, 2 ** 60]), '[0,0.1,1e+21,1e-7,123456789012,1152921504606847000]');
  });

  test('leaves out object members that are undefined, like jsonb and the payload converter', () => {
    assert.equal(canonicalJson({ a: undefined, b: 2 }), '{"b":2}');
  });

  const refused: Array<[string, unknown, RegExp]> = [
    ['NaN', { x: NaN }, /^\$\.x: NaN is not a finite number/],
    ['Infinity', { x: [Infinity] }, /^\$\.x\[0\]: Infinity is not a finite number/],
    ['undefined in an array', [1, undefined], /^\$\[1\]: undefined is not JSON/],
    ['a bigint', { n: 1n }, /^\$\.n: a bigint is not JSON/],
    ['a function', { f: () => 1 }, /^\$\.f: a function is not JSON/],
    ['a Date', { when: new Date(0) }, /^\$\.when: a Date is not plain JSON \(pass an ISO 8601 string\)/],
    ['a Map', { m: new Map() }, /^\$\.m: a Map is not plain JSON/],
    ['a NUL character', { s: 'a\u0000b' }, /^\$\.s: contains a NUL character/],
    ['an unpaired surrogate', { s: 'a\ud800b' }, /^\$\.s: contains an unpaired UTF-16 surrogate/],
    ['a lone low surrogate', { s: '\udc00' }, /^\$\.s: contains an unpaired UTF-16 surrogate/],
  ];
  for (const [name, value, message] of refused) {
    test(`refuses ${name}, naming where it is`, () => {
      assert.throws(() => canonicalJson(value), (error: unknown) => error instanceof NotCanonicalJsonError && message.test(error.message));
    });
  }
});

describe('canonicalTimestamp', () => {
  test('is UTC with six fractional digits, as PostgreSQL prints timestamptz', () => {
    assert.equal(canonicalTimestamp('2026-11-23T03:04:05.678Z'), '2026-11-23T03:04:05.678000Z');
    assert.equal(canonicalTimestamp('2026-11-23T03:04:05Z'), '2026-11-23T03:04:05.000000Z');
    assert.equal(canonicalTimestamp('2026-11-23T05:04:05.6+02:00'), '2026-11-23T03:04:05.600000Z');
    assert.equal(canonicalTimestamp('2026-01-01T00:30:00.000-01:00'), '2026-01-01T01:30:00.000000Z');
  });

  for (const bad of ['2026-11-23T03:04:05', '2026-11-23 03:04:05Z', '2026-11-23T03:04:05.1234Z', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-23T24:00:00Z', 'yesterday', '']) {
    test(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(() => canonicalTimestamp(bad), (error: unknown) => error instanceof NotCanonicalJsonError && error.path === 'at');
    });
  }
});

describe('auditRowHash', () => {
  const first: AuditRowContent = { workflowId: 'wf-1', seq: 1, at: '2026-11-23T03:04:05.678000Z', actor: 'runbook', action: 'step.started', detail: { step: 'snapshot' } };

  test('is SHA-256 of the previous hash, a newline and the documented canonical row (recomputed by hand)', () => {
    const documented = '{"action":"step.started","actor":"runbook","at":"2026-11-23T03:04:05.678000Z","detail":{"step":"snapshot"},"seq":1,"workflow_id":"wf-1"}';
    assert.equal(canonicalAuditRow(first), documented);
    // The same value `printf '%s\n%s' 000…000 '<documented>' | sha256sum` prints.
    assert.equal(auditRowHash(GENESIS_HASH, first), '80ad12a70047b05e33006921fc18c31ffed1a8d5d2b12d6d34d181b80051a59e');
    assert.equal(auditRowHash(GENESIS_HASH, first), createHash('sha256').update(`${'0'.repeat(64)}\n${documented}`).digest('hex'));
  });

  test('does not depend on the order keys were written in', () => {
    assert.equal(auditRowHash(GENESIS_HASH, { ...first, detail: { b: 1, a: { y: 1, x: 2 } } }), auditRowHash(GENESIS_HASH, { ...first, detail: { a: { x: 2, y: 1 }, b: 1 } }));
  });

  test('changes when any field or the previous hash changes', () => {
    const base = auditRowHash(GENESIS_HASH, first);
    const variants: AuditRowContent[] = [
      { ...first, workflowId: 'wf-2' },
      { ...first, seq: 2 },
      { ...first, at: '2026-11-23T03:04:05.679000Z' },
      { ...first, actor: 'alice' },
      { ...first, action: 'step.ended' },
      { ...first, detail: { step: 'snapshot ' } },
    ];
    for (const variant of variants) assert.notEqual(auditRowHash(GENESIS_HASH, variant), base);
    assert.notEqual(auditRowHash('f'.repeat(64), first), base);
  });

  test('chainAuditRows links each row to the hash of the one before, the first to the given hash', () => {
    const rows = chainAuditRows(GENESIS_HASH, [first, { ...first, seq: 2 }, { ...first, seq: 3 }]);
    assert.equal(rows[0]!.prevHash, GENESIS_HASH);
    assert.equal(rows[1]!.prevHash, rows[0]!.hash);
    assert.equal(rows[2]!.prevHash, rows[1]!.hash);
    for (const row of rows) assert.equal(row.hash, auditRowHash(row.prevHash, row));
  });
});

describe('findChainProblems', () => {
  const workflowId = 'wf-verify';
  function chain(n: number): StoredAuditRow[] {
    const content = Array.from({ length: n }, (_, i): AuditRowContent => ({ workflowId, seq: i + 1, at: `2026-11-23T03:0${i}:00.000000Z`, actor: 'runbook', action: `step-${i + 1}`, detail: { n: i + 1 } }));
    return chainAuditRows(GENESIS_HASH, content).map((r) => ({ seq: r.seq, at: r.at, actor: r.actor, action: r.action, detail: r.detail, prev_hash: r.prevHash, hash: r.hash }));
  }
  const kinds = (rows: StoredAuditRow[]) => findChainProblems(workflowId, rows).map((p) => `${p.seq}:${p.problem}`);

  test('an untouched chain has no problems', () => {
    assert.deepEqual(findChainProblems(workflowId, chain(5)), []);
    assert.deepEqual(findChainProblems(workflowId, []), []);
  });

  test('an edited row is named as edited', () => {
    const rows = chain(5);
    rows[2]!.detail = { n: 99 };
    assert.deepEqual(kinds(rows), ['3:edited']);
  });

  test('an edited and re-hashed row breaks the next link', () => {
    const rows = chain(5);
    rows[2]!.actor = 'mallory';
    rows[2]!.hash = auditRowHash(rows[2]!.prev_hash, { workflowId, ...rows[2]! });
    const problems = findChainProblems(workflowId, rows);
    assert.deepEqual(problems.map((p) => `${p.seq}:${p.problem}`), ['4:broken-link']);
    assert.match(problems[0]!.detail, /seq 3 was edited and re-hashed/);
  });

  test('a changed prev_hash is named as edited', () => {
    const rows = chain(4);
    rows[1]!.prev_hash = 'a'.repeat(64);
    assert.deepEqual(kinds(rows), ['2:edited']);
  });

  test('deleted rows are named by their seq, the first one too', () => {
    assert.deepEqual(kinds(chain(6).filter((r) => r.seq !== 3 && r.seq !== 4)), ['3:deleted', '4:deleted']);
    assert.deepEqual(kinds(chain(3).slice(1)), ['1:deleted']);
  });

  test('a forged row put in the middle (the rest renumbered) is inserted; the renumbered rows are out of order', () => {
    const rows = chain(4);
    const forged: AuditRowContent = { workflowId, seq: 3, at: '2026-11-23T03:01:30.000000Z', actor: 'mallory', action: 'gate.approved', detail: {} };
    const forgedHash = auditRowHash(rows[1]!.hash, forged);
    const tampered = [rows[0]!, rows[1]!, { ...forged, prev_hash: rows[1]!.hash, hash: forgedHash }, { ...rows[2]!, seq: 4 }, { ...rows[3]!, seq: 5 }];
    assert.deepEqual(kinds(tampered), ['3:inserted', '4:out-of-order', '5:out-of-order']);
  });

  test('a forged row at the end whose hash does not fit is inserted', () => {
    const rows = chain(3);
    rows.push({ seq: 4, at: '2026-11-23T04:00:00.000000Z', actor: 'mallory', action: 'x', detail: {}, prev_hash: 'b'.repeat(64), hash: 'c'.repeat(64) });
    assert.deepEqual(kinds(rows), ['4:inserted']);
  });

  test('a row with seq 0 or below is inserted', () => {
    const rows = chain(2);
    rows.unshift({ ...rows[0]!, seq: 0 });
    assert.deepEqual(kinds(rows), ['0:inserted']);
  });

  test('two swapped rows are out of order', () => {
    const rows = chain(4);
    const swapped = [rows[0]!, { ...rows[2]!, seq: 2 }, { ...rows[1]!, seq: 3 }, rows[3]!];
    assert.deepEqual(kinds(swapped), ['2:out-of-order', '3:out-of-order']);
  });

  test('a row deleted and the rest renumbered to close the gap is reported as deleted', () => {
    const rows = chain(4);
    const closed = [rows[0]!, { ...rows[2]!, seq: 2 }, { ...rows[3]!, seq: 3 }];
    assert.deepEqual(kinds(closed), ['2:out-of-order', '2:deleted', '3:out-of-order']);
  });

  test('a NULL put in by hand is a problem, not a crash', () => {
    const rows = chain(2);
    (rows[1] as { detail: unknown }).detail = null;
    assert.deepEqual(kinds(rows), ['2:edited']);
  });
});

describe('findSecretLikeValues', () => {
  test('refuses keys that look like secrets, at any depth, without repeating the value', () => {
    const found = findSecretLikeValues({ password: 'hunter2', nested: { apiToken: 'x', list: [{ client_secret: 'y' }] }, connectionString: 'x', AWS_SECRET_ACCESS_KEY: 'z', privateKey: 'k' });
    assert.deepEqual(found.map((f) => f.path), ['detail.password', 'detail.nested.apiToken', 'detail.nested.list[0].client_secret', 'detail.connectionString', 'detail.AWS_SECRET_ACCESS_KEY', 'detail.privateKey']);
    for (const f of found) assert.ok(!f.reason.includes('hunter2'));
  });

  test('refuses URLs with a password in them, whatever the key', () => {
    assert.deepEqual(findSecretLikeValues({ target: 'postgresql://app:s3cret@db:5432/mita', note: ['see https://u:p@example.com/x'] }).map((f) => f.path), ['detail.target', 'detail.note[0]']);
  });

  test('accepts references to secrets by name and ordinary details', () => {
    assert.deepEqual(findSecretLikeValues({ secretName: 'prod-db-password', passwordSecretRef: 'a', tokenId: 't-1', step: 'rotate', url: 'https://example.com/status', dsnHost: 'db', by: 'alice@example.com', target: 'postgresql://app@db/mita' }), []);
  });
});
