import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The demo application's files (seed 002's /app/documents, /app/config and /app/backend): a few
 * statements, its configuration (JSON, no secrets) and its code, with the modes a deployment gives them.
 * Deterministic, so a restore can be compared with what was written.
 */
export const appFileKinds = ['documents', 'configs', 'code'] as const;

/** Bytes that look like a PDF and differ per name, the same on every run. */
function statement(name: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(name).digest();
  for (let i = 0; i < size; i += block.length) {
    block.copy(out, i);
    block = createHash('sha256').update(block).digest();
  }
  Buffer.from('%PDF-1.7\n').copy(out);
  return out;
}

export function writeDemoAppFiles(root: string): void {
  const documents = path.join(root, 'documents');
  for (const month of ['2026-09', '2026-10', '2026-11']) {
    mkdirSync(path.join(documents, 'statements', month.slice(0, 4)), { recursive: true });
    writeFileSync(path.join(documents, 'statements', month.slice(0, 4), `${month}.pdf`), statement(month, 48_000), { mode: 0o640 });
  }
  mkdirSync(path.join(documents, 'policies'), { recursive: true });
  writeFileSync(path.join(documents, 'policies', 'privacy.txt'), 'MITA keeps statements for seven years.\n', { mode: 0o644 });
  symlinkSync('statements/2026/2026-11.pdf', path.join(documents, 'latest-statement.pdf'));

  const configs = path.join(root, 'configs');
  mkdirSync(configs, { recursive: true });
  writeFileSync(path.join(configs, 'app.json'), `${JSON.stringify({ name: 'mita', currency: 'USD', statementsPerPage: 20 }, null, 2)}\n`, { mode: 0o640 });
  writeFileSync(path.join(configs, 'database.json'), `${JSON.stringify({ pool: 4, statementTimeoutMs: 10_000, passwordSecret: 'production-db-password' }, null, 2)}\n`, { mode: 0o640 });
  writeFileSync(path.join(configs, 'cache.json'), `${JSON.stringify({ balanceTtlSeconds: 300, sessionTtlSeconds: 3600 }, null, 2)}\n`, { mode: 0o640 });

  const code = path.join(root, 'code');
  mkdirSync(path.join(code, 'backend'), { recursive: true });
  writeFileSync(path.join(code, 'backend', 'ledger.js'), "'use strict';\nexports.balanceOf = (transactions) => transactions.reduce((sum, t) => sum + t.amount, 0);\n", { mode: 0o644 });
  writeFileSync(path.join(code, 'backend', 'app.js'), "'use strict';\nconst { balanceOf } = require('./ledger');\nmodule.exports = { balanceOf };\n", { mode: 0o644 });
  writeFileSync(path.join(code, 'start.sh'), '#!/bin/sh\nexec node backend/app.js\n', { mode: 0o755 });
  chmodSync(path.join(code, 'start.sh'), 0o755);
}

/** The checks a restore of each kind runs in its staged copy (argv, no shell): configs must parse, code must compile. */
export function demoVerificationCommands(node = process.execPath): Record<'configs' | 'code', string[]> {
  const walk = "const walk = (d) => require('fs').readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? walk(d + '/' + e.name) : [d + '/' + e.name]);";
  return {
    configs: [node, '-e', `${walk} for (const f of walk('.')) if (f.endsWith('.json')) JSON.parse(require('fs').readFileSync(f, 'utf8'));`],
    // The seed's py_compile, for JavaScript: every file compiles, and nothing is written into the staged copy.
    code: [node, '-e', `${walk} for (const f of walk('.')) if (f.endsWith('.js')) new (require('vm').Script)(require('fs').readFileSync(f, 'utf8'), { filename: f });`],
  };
}
