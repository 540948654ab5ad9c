/**
 * The text an approver signs: `dr approve|reject|abort` builds it and signs it with their SSH key, the worker
 * builds it again from the vote and the run it arrived at, and verifies the signature over those bytes. An
 * auditor reads it as it is. One field per line, fixed order, every line `<key>: <value>` ending in "\n":
 *
 *   dr-runbooks vote v1
 *   namespace: default
 *   workflow-id: server-failure-INC-1234
 *   run-id: 0190b6a4-…
 *   gate: cutover
 *   decision: approve
 *   by: alice
 *   comment: replica lag 2 s, checks green
 *   time: 2026-12-01T03:04:05.000Z
 *
 * A value can never hold a line break (or any other control character), so no value can forge another
 * line; such input is refused, not escaped. For `abort` the gate is empty.
 */

export const voteStatementVersionLine = 'dr-runbooks vote v1';
/** The SSHSIG namespace votes are signed under (`ssh-keygen -Y sign -n`), so no other signature of the key fits. */
export const voteSignatureNamespace = 'dr-runbooks-vote@v1';

export const voteDecisions = ['approve', 'reject', 'abort'] as const;
export type VoteDecision = (typeof voteDecisions)[number];

export interface VoteStatement {
  /** The Temporal namespace of the run. */
  namespace: string;
  workflowId: string;
  runId: string;
  /** The gate voted on; empty for `abort`, which stops the whole run. */
  gate: string;
  decision: VoteDecision;
  /** Who votes: the principal their key is listed under in the allowed signers. */
  by: string;
  comment: string;
  /** When the vote was cast, as an ISO 8601 UTC time with milliseconds (what Date#toISOString writes). */
  time: string;
}

export class VoteStatementError extends Error {
  override readonly name = 'VoteStatementError';
  constructor(readonly field: string, problem: string) {
    super(`vote ${field}: ${problem}`);
  }
}

const lines = [
  ['namespace', 'namespace'],
  ['workflowId', 'workflow-id'],
  ['runId', 'run-id'],
  ['gate', 'gate'],
  ['decision', 'decision'],
  ['by', 'by'],
  ['comment', 'comment'],
  ['time', 'time'],
] as const satisfies readonly (readonly [keyof VoteStatement, string])[];

const maxLength: Record<keyof VoteStatement, number> = {
  namespace: 1000,
  workflowId: 1000,
  runId: 1000,
  gate: 200,
  decision: 10,
  by: 256,
  comment: 4000,
  time: 24,
};

// Control characters (C0, DEL, C1), line and paragraph separators, the byte-order mark, and the bidi
// controls that make text display in another order than it is stored (a comment could look like another).
const forbidden = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const isoTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function describe(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

function checkText(field: keyof VoteStatement, value: unknown, required: boolean): string {
  if (typeof value !== 'string') throw new VoteStatementError(field, `must be text, got ${value === null ? 'null' : typeof value}`);
  if (required && value.trim() === '') throw new VoteStatementError(field, 'must not be blank');
  if (value.length > maxLength[field]) throw new VoteStatementError(field, `is ${value.length} characters long; at most ${maxLength[field]} are allowed`);
  const bad = forbidden.exec(value);
  if (bad) throw new VoteStatementError(field, `contains the control character ${describe(bad[0])} at position ${bad.index}; line breaks, tabs and other control characters are refused`);
  const surrogate = loneSurrogate.exec(value);
  if (surrogate) throw new VoteStatementError(field, `contains a broken character (lone surrogate ${describe(surrogate[0])}) at position ${surrogate.index}`);
  return value;
}

function checkTime(value: unknown): string {
  const text = value instanceof Date ? (Number.isNaN(value.getTime()) ? '' : value.toISOString()) : value;
  if (typeof text !== 'string' || !isoTime.test(text) || Number.isNaN(Date.parse(text)) || new Date(text).toISOString() !== text) {
    throw new VoteStatementError('time', 'must be a UTC time like 2026-12-01T03:04:05.000Z (what Date#toISOString writes)');
  }
  return text;
}

/** The statement's fields, checked; throws VoteStatementError naming the field and the problem. */
export function checkVoteStatement(input: Omit<VoteStatement, 'time'> & { time: string | Date }): VoteStatement {
  if (input === null || typeof input !== 'object') throw new VoteStatementError('statement', 'must be an object');
  const decision = input.decision;
  if (!(voteDecisions as readonly unknown[]).includes(decision)) throw new VoteStatementError('decision', `must be one of ${voteDecisions.join(', ')}`);
  const statement: VoteStatement = {
    namespace: checkText('namespace', input.namespace, true),
    workflowId: checkText('workflowId', input.workflowId, true),
    runId: checkText('runId', input.runId, true),
    gate: checkText('gate', input.gate, decision !== 'abort'),
    decision,
    by: checkText('by', input.by, true),
    comment: checkText('comment', input.comment, false),
    time: checkTime(input.time),
  };
  if (decision === 'abort' && statement.gate !== '') throw new VoteStatementError('gate', 'must be empty for abort, which stops the whole run');
  return statement;
}

/** The exact text to sign (UTF-8 encode it for the signature). */
export function buildVoteStatement(input: Omit<VoteStatement, 'time'> & { time: string | Date }): string {
  const statement = checkVoteStatement(input);
  return [voteStatementVersionLine, ...lines.map(([field, key]) => `${key}: ${statement[field]}`)].join('\n') + '\n';
}

/** Reads a statement back (e.g. from the audit trail); only text buildVoteStatement would write is accepted. */
export function parseVoteStatement(text: string): VoteStatement {
  if (typeof text !== 'string') throw new VoteStatementError('statement', 'must be text');
  if (!text.endsWith('\n')) throw new VoteStatementError('statement', 'must end with a line break');
  const got = text.slice(0, -1).split('\n');
  if (got[0] !== voteStatementVersionLine) throw new VoteStatementError('statement', `must start with the line "${voteStatementVersionLine}"`);
  if (got.length !== lines.length + 1) throw new VoteStatementError('statement', `must have ${lines.length + 1} lines, has ${got.length}`);
  const fields: Record<string, string> = {};
  lines.forEach(([field, key], index) => {
    const line = got[index + 1] as string;
    if (!line.startsWith(`${key}: `)) throw new VoteStatementError(field, `line ${index + 2} must start with "${key}: "`);
    fields[field] = line.slice(key.length + 2);
  });
  const statement = checkVoteStatement(fields as unknown as VoteStatement);
  if (buildVoteStatement(statement) !== text) throw new VoteStatementError('statement', 'is not in canonical form');
  return statement;
}
