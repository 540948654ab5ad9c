/**
 * The demo service's env file: `KEY=value` lines, `#` comments, optional `export ` and quotes
 * (the dotenv subset people actually write). Pure functions, so the format is unit-tested.
 */
const keyPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseEnvFile(text: string, source = 'env file'): Record<string, string> {
  const vars: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!match || !keyPattern.test(match[1]!)) throw new Error(`${source} line ${index + 1}: expected KEY=value, got "${line.slice(0, 40)}"`);
    vars[match[1]!] = unquote(match[2]!, `${source} line ${index + 1}`);
  });
  return vars;
}

function unquote(value: string, where: string): string {
  if (value.startsWith('"')) {
    const match = /^"((?:[^"\\]|\\.)*)"\s*(?:#.*)?$/.exec(value);
    if (!match) throw new Error(`${where}: unterminated double quote`);
    return match[1]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  if (value.startsWith("'")) {
    const match = /^'([^']*)'\s*(?:#.*)?$/.exec(value);
    if (!match) throw new Error(`${where}: unterminated single quote`);
    return match[1]!;
  }
  return value.trim();
}

export function formatEnvFile(vars: Record<string, string>, header?: string): string {
  const lines = header ? header.split('\n').map((l) => `# ${l}`) : [];
  for (const [key, value] of Object.entries(vars)) {
    if (!keyPattern.test(key)) throw new Error(`env key "${key}" is not a valid name (letters, digits, underscore)`);
    const plain = /^[A-Za-z0-9_@%+=:,./?&-]*$/.test(value);
    lines.push(`${key}=${plain ? value : `"${value.replace(/(["\\])/g, '\\$1').replace(/\n/g, '\\n')}"`}`);
  }
  return lines.join('\n') + '\n';
}
