// What a message to a runbook said, in a form that is safe to put on the timeline, in the audit trail and
// in a report: whatever arrived (megabytes, control characters, a URL with a password, not text at all).
// Workflow-safe: the gate and abort handlers use it before anything is recorded.

/** C0 and C1 controls, DEL, line/paragraph separators, the byte-order mark and the bidi controls. */
const controlCharacters = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/**
 * scheme://user:password@host: the password is removed (scheme://user@host). Every part is bounded, so a
 * megabyte without a URL in it is scanned in linear time (an unbounded scheme would make it quadratic).
 */
const credentialedUrl = /([a-z][a-z0-9+.-]{0,31}:\/\/[^\s/@:]{0,256}):[^\s/@]{1,1024}@/gi;

const codePoint = (char: string) => `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/** The first control character of a text and where it is ("U+000A at position 3"), or undefined. */
export function controlCharacterIn(text: string): string | undefined {
  controlCharacters.lastIndex = 0;
  const found = controlCharacters.exec(text);
  return found ? `${codePoint(found[0])} at position ${found.index}` : undefined;
}

/** URLs keep their scheme, user and host; their password is taken out (no marker a checker could take for one). */
export function redactCredentials(text: string): string {
  return text.replace(credentialedUrl, '$1@');
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * `value` as one line of at most `max` characters: passwords in URLs redacted, control characters shown as
 * \u{…} (so nothing can forge a line), cut with the length said; anything but text is named by its type.
 */
export function safeText(value: unknown, max = 200): string {
  if (value === undefined) return '(missing)';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') return `(${typeOf(value)})`;
  // Redact before cutting: a URL cut short of its @ would show its password. The margin bounds the work.
  const head = redactCredentials(value.slice(0, max + 1024));
  const escaped = head.replace(controlCharacters, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
  const chars = Array.from(escaped);
  return chars.length > max || value.length > max + 1024 ? `${chars.slice(0, max).join('')}… (${value.length} characters)` : escaped;
}

/** A name a person claimed (an approver, who aborts), for the audit trail's actor: never blank. */
export function claimedName(value: unknown): string {
  const text = typeof value === 'string' ? value.trim() : '';
  return text ? safeText(text, 128) : 'unknown';
}
