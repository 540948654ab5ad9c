import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

// Node 20's test runner needs an explicit file list: a quoted glob fails, and a bare `--test`
// finds nothing yet exits 0. So we list the files ourselves, in a stable order.
const root = path.resolve(__dirname, '..');
const only = process.argv.slice(2);

function testFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'support' || name === 'fixtures' ? [] : testFiles(full);
    return name.endsWith('.test.ts') ? [full] : [];
  });
}

function run(label: string, command: string, args: string[]): void {
  console.log(`\n> ${label}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`${label} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

const suites = only.length ? only.map((p) => path.resolve(p)) : ['unit', 'contract', 'integration', 'e2e'].flatMap((s) => testFiles(path.join(root, 'test', s)));
if (suites.length === 0) {
  console.error('no test files found under test/');
  process.exit(1);
}
if (!only.length) {
  run('typecheck (tsc --noEmit)', process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', root]);
  run('lint (eslint)', process.execPath, [path.join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--max-warnings=0', root]);
}
// One file at a time: integration files each start real servers, and the machine has two cores.
run(`node --test (${suites.length} files)`, process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...suites]);
