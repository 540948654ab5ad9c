/**
 * OpenSSH pattern lists (PATTERNS in ssh_config(5)), as match.c implements them: comma-separated patterns
 * with `*` (any run of bytes) and `?` (one byte); a pattern starting with `!` that matches rules the string
 * out whatever else matches. Matching is on UTF-8 bytes and case-sensitive, exactly as `ssh-keygen -Y` does.
 */

function matchPattern(s: Uint8Array, si: number, p: Uint8Array, pi: number): boolean {
  for (;;) {
    if (pi === p.length) return si === s.length;
    if (p[pi] === 0x2a /* * */) {
      while (pi < p.length && p[pi] === 0x2a) pi++;
      if (pi === p.length) return true;
      for (; si < s.length; si++) if (matchPattern(s, si, p, pi)) return true;
      return false;
    }
    if (si === s.length) return false;
    if (p[pi] !== 0x3f /* ? */ && p[pi] !== s[si]) return false;
    si++;
    pi++;
  }
}

/** 1 when a positive pattern matches and no negated one does, -1 when a negated one matches, else 0. */
export function matchPatternList(value: string, patternList: string): 1 | 0 | -1 {
  const s = Buffer.from(value, 'utf8');
  let positive = false;
  for (const raw of patternList.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = Buffer.from(negated ? raw.slice(1) : raw, 'utf8');
    if (matchPattern(s, 0, pattern, 0)) {
      if (negated) return -1;
      positive = true;
    }
  }
  return positive ? 1 : 0;
}
