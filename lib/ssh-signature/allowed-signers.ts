import { parsePublicKeyText, SshKeyError, type SshPublicKey } from './public-key';
import { matchPatternList } from './pattern';

/**
 * The allowed-signers file (ALLOWED SIGNERS in ssh-keygen(1)), the one git's gpg.ssh.allowedSignersFile
 * names, read as OpenSSH's sshsig.c reads it:
 *
 *   principals [options] keytype base64 [comment]
 *
 * principals is a pattern list (`alice@example.com,*@ops.example.com`); options are `cert-authority`,
 * `namespaces="…"` (a pattern list), `valid-after="…"` and `valid-before="…"` (YYYYMMDD[Z] or
 * YYYYMMDDHHMM[SS][Z], local time unless Z/UTC), comma-separated, values in double quotes.
 */
export interface AllowedSigner {
  /** 1-based line number in the file, for messages. */
  readonly line: number;
  /** The line as written (without its line break): what an auditor's allowed-signers file needs. */
  readonly text: string;
  readonly principals: string;
  readonly certAuthority: boolean;
  readonly namespaces?: string;
  /** Unix seconds. */
  readonly validAfter?: number;
  readonly validBefore?: number;
  /** Undefined when the key is of a type we do not accept (then `unsupported` says why). */
  readonly key?: SshPublicKey;
  readonly unsupported?: string;
}

export class AllowedSignersError extends Error {
  override readonly name = 'AllowedSignersError';
  constructor(readonly source: string, readonly problems: string[]) {
    super(`${source} is not a valid allowed-signers file:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

const whitespace = ' \t\r\n';

// Every name sshkey_read knows: one of these opens the key field; anything else in that place is options.
const knownKeyTypes = new Set([
  'ssh-ed25519', 'ssh-rsa', 'ssh-dss', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com', 'ssh-xmss@openssh.com',
  'ssh-ed25519-cert-v01@openssh.com', 'ssh-rsa-cert-v01@openssh.com', 'ssh-dss-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ecdsa-sha2-nistp384-cert-v01@openssh.com', 'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com', 'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ssh-xmss-cert-v01@openssh.com',
]);

class LineError extends Error {}

/** The first whitespace-delimited word; a double-quoted run may hold spaces (misc.c strdelimw). */
function firstWord(text: string): { word: string; rest: string } {
  let i = 0;
  let word = '';
  while (i < text.length && !whitespace.includes(text[i] as string)) {
    if (text[i] === '"') {
      const close = text.indexOf('"', i + 1);
      if (close < 0) throw new LineError('a quote in the principals field is not closed');
      word += text.slice(i + 1, close);
      i = close + 1;
      break;
    }
    word += text[i];
    i++;
  }
  while (i < text.length && whitespace.includes(text[i] as string)) i++;
  return { word, rest: text.slice(i) };
}

/** Where the options field ends: the first blank outside double quotes (sshkey_advance_past_options). */
function optionsEnd(text: string): number {
  let quoted = false;
  let i = 0;
  for (; i < text.length && (quoted || (text[i] !== ' ' && text[i] !== '\t')); i++) {
    if (text[i] === '\\' && text[i + 1] === '"') i++;
    else if (text[i] === '"') quoted = !quoted;
  }
  if (quoted) throw new LineError('a quote in the options is not closed');
  return i;
}

/** `"value"` at the start of text (auth-options.c opt_dequote): returns the value and what follows. */
function dequote(text: string, option: string): { value: string; rest: string } {
  if (text[0] !== '"') throw new LineError(`the value of ${option} must be in double quotes, e.g. ${option}="…"`);
  let value = '';
  let i = 1;
  for (; i < text.length && text[i] !== '"'; i++) {
    if (text[i] === '\\' && text[i + 1] === '"') i++;
    value += text[i];
  }
  if (i >= text.length) throw new LineError(`the value of ${option} has no closing quote`);
  return { value, rest: text.slice(i + 1) };
}

/**
 * A valid-after/valid-before time as misc.c parse_absolute_time reads it: YYYYMMDD, YYYYMMDDHHMM or
 * YYYYMMDDHHMMSS, in UTC with a trailing Z (or UTC), else in this machine's time zone. Unix seconds.
 */
export function parseSshTime(value: string, option: string): number {
  let digits = value;
  let utc = false;
  if (/z$/i.test(digits) && digits.length > 1) {
    utc = true;
    digits = digits.slice(0, -1);
  } else if (/utc$/i.test(digits) && digits.length > 3) {
    utc = true;
    digits = digits.slice(0, -3);
  }
  const match = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$/.exec(digits);
  if (!match) throw new LineError(`${option}="${value}" is not a time in the form YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z]`);
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const date = utc ? new Date(Date.UTC(year, month - 1, day, hour, minute, second)) : new Date(year, month - 1, day, hour, minute, second);
  const parts = utc
    ? [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    : [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds()];
  if (Number.isNaN(date.getTime()) || parts.join() !== [year, month, day, hour, minute, second].join()) {
    throw new LineError(`${option}="${value}" is not a real date and time`);
  }
  const seconds = Math.floor(date.getTime() / 1000);
  if (seconds <= 0) throw new LineError(`${option}="${value}" is before 1970`);
  return seconds;
}

interface Options {
  certAuthority: boolean;
  namespaces?: string;
  validAfter?: number;
  validBefore?: number;
}

/** The options field (sshsig.c sshsigopt_parse): names are case-insensitive, each may appear once. */
function parseOptions(field: string): Options {
  const options: Options = { certAuthority: false };
  let rest = field;
  const take = (name: string) => rest.slice(0, name.length).toLowerCase() === name;
  while (rest !== '') {
    if (take('cert-authority')) {
      options.certAuthority = true;
      rest = rest.slice('cert-authority'.length);
    } else {
      const name = (['namespaces', 'valid-after', 'valid-before'] as const).find((n) => take(n + '='));
      if (!name) throw new LineError(`unknown option "${rest.split(',')[0]}" (known: cert-authority, namespaces="…", valid-after="…", valid-before="…")`);
      const { value, rest: after } = dequote(rest.slice(name.length + 1), name);
      rest = after;
      if (name === 'namespaces') {
        if (options.namespaces !== undefined) throw new LineError('namespaces is given twice');
        options.namespaces = value;
      } else if (name === 'valid-after') {
        if (options.validAfter !== undefined) throw new LineError('valid-after is given twice');
        options.validAfter = parseSshTime(value, name);
      } else {
        if (options.validBefore !== undefined) throw new LineError('valid-before is given twice');
        options.validBefore = parseSshTime(value, name);
      }
    }
    if (rest === '') break;
    if (rest[0] !== ',') throw new LineError(`unexpected "${rest}" in the options: options are separated by commas`);
    rest = rest.slice(1);
    if (rest === '') throw new LineError('the options end with a comma');
  }
  if (options.validAfter !== undefined && options.validBefore !== undefined && options.validBefore <= options.validAfter) {
    throw new LineError('valid-before is not after valid-after');
  }
  return options;
}

function parseLine(text: string, line: number): AllowedSigner | undefined {
  const trimmed = text.replace(/^[ \t\r\n]+/, '');
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  const { word: principals, rest: afterPrincipals } = firstWord(trimmed);
  if (principals === '') throw new LineError('the principals field is empty');
  if (afterPrincipals === '') throw new LineError('the line has principals but no key');
  let options: Options = { certAuthority: false };
  let keyText = afterPrincipals;
  const nextWord = afterPrincipals.split(/[ \t]/)[0] as string;
  if (!knownKeyTypes.has(nextWord)) {
    const end = optionsEnd(afterPrincipals);
    options = parseOptions(afterPrincipals.slice(0, end));
    keyText = afterPrincipals.slice(end).replace(/^[ \t]+/, '');
    if (keyText === '') throw new LineError('the line has options but no key');
  }
  const [keyType] = keyText.split(/[ \t]/) as [string];
  if (!knownKeyTypes.has(keyType)) throw new LineError(`"${keyType}" is not an SSH key type (expected e.g. ssh-ed25519 AAAA…)`);
  const base = { line, text: text.replace(/[\r\n]+$/, ''), principals, ...options };
  try {
    return { ...base, key: parsePublicKeyText(keyText.split(/[ \t]+/).slice(0, 2).join(' ')) };
  } catch (error) {
    if (!(error instanceof SshKeyError)) throw error;
    // A well-formed line for a key we do not accept (a FIDO key, a short RSA key) never matches a
    // signature, but does not make the rest of the file unusable: other people may share the file.
    if (error.kind === 'malformed') throw new LineError(error.message);
    return { ...base, unsupported: error.message };
  }
}

/**
 * Reads an allowed-signers file. Every malformed line is reported at once (AllowedSignersError lists
 * `line N: problem`), so a config loader can refuse the file with everything there is to fix.
 */
export function parseAllowedSigners(content: string, source = 'the allowed-signers file'): AllowedSigner[] {
  const signers: AllowedSigner[] = [];
  const problems: string[] = [];
  content.split('\n').forEach((text, index) => {
    try {
      const signer = parseLine(text, index + 1);
      if (signer) signers.push(signer);
    } catch (error) {
      if (!(error instanceof LineError)) throw error;
      problems.push(`line ${index + 1}: ${error.message}`);
    }
  });
  if (problems.length) throw new AllowedSignersError(source, problems);
  return signers;
}

export function principalMatches(signer: AllowedSigner, principal: string): boolean {
  return matchPatternList(principal, signer.principals) === 1;
}

export function namespaceAllowed(signer: AllowedSigner, namespace: string): boolean {
  return signer.namespaces === undefined || matchPatternList(namespace, signer.namespaces) === 1;
}

/** One allowed-signers line for a key, e.g. to give an auditor the file that verifies a stored vote. */
export function formatAllowedSignersLine(entry: { principals: string; key: string; namespaces?: string }): string {
  if (/[\s"]/.test(entry.principals)) throw new Error('principals must not contain blanks or quotes');
  const options = entry.namespaces !== undefined ? ` namespaces="${entry.namespaces.replace(/"/g, '\\"')}"` : '';
  return `${entry.principals}${options} ${entry.key}`;
}
