import { createHash } from 'node:crypto';

/*
 * The audit trail's hash chain, written so an auditor can recompute it with nothing but SQL output,
 * a JSON canonicaliser and sha256sum.
 *
 *   hash = lowercase hex of SHA-256( UTF-8( prev_hash || "\n" || canonical_row ) )
 *
 * - prev_hash is the previous row's `hash` (same workflow_id, seq - 1); the row with seq 1 chains from
 *   GENESIS_HASH, 64 zeros.
 * - canonical_row is the RFC 8785 (JSON Canonicalization Scheme) serialisation of the object
 *     {"action": action, "actor": actor, "at": at, "detail": detail, "seq": seq, "workflow_id": workflow_id}
 *   i.e. no whitespace, object keys sorted by UTF-16 code units at every depth, arrays in order,
 *   strings escaped as ECMAScript JSON.stringify does (\" \\ \b \f \n \r \t, other controls as \u00xx),
 *   numbers as ECMAScript Number.prototype.toString (seq is an integer: "seq":3).
 * - at is the stored timestamptz in UTC with exactly six fractional digits and a Z, as PostgreSQL gives it
 *   with to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), e.g. "2026-11-23T03:04:05.678000Z".
 * - detail is the stored jsonb value (always an object).
 *
 * Example, for the first row of workflow "wf-1":
 *   sha256("0000…0000\n" + '{"action":"step.started","actor":"runbook","at":"2026-11-23T03:04:05.678000Z","detail":{"step":"snapshot"},"seq":1,"workflow_id":"wf-1"}')
 */

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditRowContent {
  workflowId: string;
  seq: number;
  /** Canonical timestamp (see canonicalTimestamp). */
  at: string;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
}

/** A value that cannot be represented in the canonical form (the message names where it is). */
export class NotCanonicalJsonError extends Error {
  constructor(readonly path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'NotCanonicalJsonError';
  }
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * RFC 8785 canonical JSON of a JSON value. Object members whose value is undefined are left out (as
 * JSON.stringify and Temporal's payload converter do); anything JSON cannot hold exactly is refused,
 * so what is hashed is always what PostgreSQL stores and returns.
 */
export function canonicalJson(value: unknown, path = '$'): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      // PostgreSQL's jsonb refuses NUL and unpaired surrogates; refuse them here, before hashing.
      if (value.includes('\u0000')) throw new NotCanonicalJsonError(path, 'contains a NUL character, which PostgreSQL cannot store in jsonb');
      if (!isWellFormed(value)) throw new NotCanonicalJsonError(path, 'contains an unpaired UTF-16 surrogate');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new NotCanonicalJsonError(path, `${value} is not a finite number`);
      return JSON.stringify(value); // ECMAScript number serialisation, -0 becomes 0, as RFC 8785 says
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((item, i) => {
          if (item === undefined) throw new NotCanonicalJsonError(`${path}[${i}]`, 'undefined is not JSON');
          return canonicalJson(item, `${path}[${i}]`);
        }).join(',')}]`;
      }
      if (!isPlainObject(value)) {
        const kind = value.constructor?.name ?? 'object';
        throw new NotCanonicalJsonError(path, `a ${kind} is not plain JSON${kind === 'Date' ? ' (pass an ISO 8601 string)' : ''}`);
      }
      const members = Object.keys(value)
        .filter((key) => value[key] !== undefined)
        .sort() // default sort compares UTF-16 code units, which is RFC 8785's order
        .map((key) => `${canonicalJson(key, path)}:${canonicalJson(value[key], `${path}.${key}`)}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new NotCanonicalJsonError(path, `a ${typeof value} is not JSON`);
  }
}

function isWellFormed(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return false;
    }
  }
  return true;
}

const isoWithOffset = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The canonical form of an entry's time: UTC, microseconds, Z — PostgreSQL's own precision, so the
 * value read back from the table is character for character the one that was hashed. The input must
 * carry its offset (a bare local time would hash differently on each worker's time zone) and at most
 * millisecond precision (workflow time has milliseconds; silently dropping digits would be worse).
 */
export function canonicalTimestamp(at: string): string {
  if (typeof at !== 'string' || !isoWithOffset.test(at)) {
    throw new NotCanonicalJsonError('at', `"${String(at)}" is not an ISO 8601 time with an offset and at most milliseconds (e.g. 2026-11-23T03:04:05.678Z)`);
  }
  // JavaScript rolls 2026-02-30 over to March 2nd; a calendar-impossible time is refused instead.
  const [y, mo, d, h, mi, se] = at.slice(0, 19).split(/[-T:]/).map(Number) as [number, number, number, number, number, number];
  const fields = new Date(0);
  fields.setUTCFullYear(y, mo - 1, d); // not Date.UTC, which maps years 0–99 to 1900–1999
  fields.setUTCHours(h, mi, se, 0);
  if (fields.getUTCMonth() !== mo - 1 || fields.getUTCDate() !== d || fields.getUTCHours() !== h || fields.getUTCMinutes() !== mi || fields.getUTCSeconds() !== se) {
    throw new NotCanonicalJsonError('at', `"${at}" is not a calendar time`);
  }
  const time = new Date(at);
  const iso = Number.isNaN(time.getTime()) ? '' : time.toISOString();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(iso)) throw new NotCanonicalJsonError('at', `"${at}" is not a valid time between years 0000 and 9999`);
  return `${iso.slice(0, -1)}000Z`;
}

/** The row as it is hashed: the RFC 8785 form of its six content columns. */
export function canonicalAuditRow(row: AuditRowContent): string {
  return canonicalJson({ action: row.action, actor: row.actor, at: row.at, detail: row.detail, seq: row.seq, workflow_id: row.workflowId });
}

export function auditRowHash(prevHash: string, row: AuditRowContent): string {
  return createHash('sha256').update(`${prevHash}\n${canonicalAuditRow(row)}`, 'utf8').digest('hex');
}

/** Hashes consecutive rows, each chaining from the one before; the first from `prevHash`. */
export function chainAuditRows(prevHash: string, rows: AuditRowContent[]): Array<AuditRowContent & { prevHash: string; hash: string }> {
  let previous = prevHash;
  return rows.map((row) => {
    const hash = auditRowHash(previous, row);
    const chained = { ...row, prevHash: previous, hash };
    previous = hash;
    return chained;
  });
}
