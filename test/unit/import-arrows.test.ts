import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

// The arrows run one way: from the entry points (worker/, client/, stack/, scripts/, bench/) down to
// workflows, activities and ports; contracts and lib are the ground everyone stands on. The lint rule
// keeps workflows deterministic; this keeps the layers apart, so an arrow that runs back up fails here.
const root = path.resolve(__dirname, '..', '..');

interface Import {
  from: string;
  /** Repository-relative target without extension (a directory import names the directory). */
  target: string;
  typeOnly: boolean;
}

/** Every relative import and re-export of a source file. */
export function importsOf(file: string, source: string): Import[] {
  const found: Import[] = [];
  const pattern = /^\s*(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const match of source.matchAll(pattern)) {
    const target = path.relative(root, path.resolve(path.dirname(path.join(root, file)), match[3]!)).replace(/\.ts$/, '');
    found.push({ from: file, target, typeOnly: match[2] !== undefined });
  }
  return found;
}

const folderOf = (p: string) => p.split('/')[0]!;
const under = (p: string, prefix: string) => p === prefix || p.startsWith(`${prefix}/`);

/** Why this import runs the wrong way, or undefined. */
export function arrowViolation(i: Import): string | undefined {
  const from = i.from;
  const to = folderOf(i.target);
  const entryPoints = ['worker', 'client', 'stack', 'scripts', 'bench', 'demo'];
  if (under(from, 'contracts') && to !== 'contracts') return 'contracts import only other contracts';
  if (under(from, 'lib') && to !== 'lib') return 'lib imports only lib (no project types)';
  if (under(from, 'workflows')) {
    if (entryPoints.includes(to) || to === 'lib') return `workflows never import ${to}/ (the worker bundles them into its sandbox)`;
    if (to === 'activities' && !i.typeOnly) return 'workflows import activities as types only (import type)';
  }
  if (under(from, 'activities')) {
    if (entryPoints.includes(to) || to === 'workflows') return `activities never import ${to}/`;
    if (under(from, 'activities/ports') && to === 'activities' && !under(i.target, 'activities/ports')) return 'a port knows no adapter and no activity';
    if (!under(from, 'activities/adapters') && under(i.target, 'activities/adapters')) return 'activities are built over ports; only the wiring point (worker/adapters.ts) picks adapters';
  }
  if ((under(from, 'worker') && from !== 'worker/adapters.ts' || under(from, 'client') || under(from, 'scripts')) && under(i.target, 'activities/adapters')) {
    return 'adapters are constructed in one place: worker/adapters.ts';
  }
  return undefined;
}

const sources = execFileSync('git', ['ls-files', '*.ts'], { cwd: root, encoding: 'utf8' }).trim().split('\n').filter((f) => !f.startsWith('test/'));

describe('import arrows', () => {
  test('no import in the tree runs back up', () => {
    const violations = sources.flatMap((file) => importsOf(file, readFileSync(path.join(root, file), 'utf8')).map((i) => ({ ...i, why: arrowViolation(i) }))).filter((v) => v.why);
    assert.deepEqual(violations.map((v) => `${v.from} → ${v.target}: ${v.why}`), []);
  });

  test('the checker sees the arrows it is there to refuse (so it can fail)', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['activities/runbook-plan.ts', "import { durationToMs } from '../worker/config';", /activities never import worker/],
      ['activities/reports/index.ts', "import type { RunbookResult } from '../../workflows/messages';", /activities never import workflows/],
      ['workflows/runbook.ts', "import { createActivities } from '../activities';", /as types only/],
      ['workflows/runbook.ts', "import { sleep } from '../lib/child-process';", /workflows never import lib/],
      ['contracts/report.ts', "import type { ObjectStore } from '../activities/ports/object-store';", /contracts import only other contracts/],
      ['activities/index.ts', "import { createConsoleNotifier } from './adapters/local/console-notifier';", /only the wiring point/],
      ['activities/ports/app-runtime.ts', "import type { LocalAppRuntime } from '../adapters/local/local-app-runtime';", /a port knows no adapter/],
      ['worker/worker.ts', "export { createLocalDatabasePlatform } from '../activities/adapters/local/postgres';", /constructed in one place/],
      ['lib/ports.ts', "import type { WorkerConfig } from '../worker/config';", /lib imports only lib/],
    ];
    for (const [file, line, why] of cases) {
      const found = importsOf(file, line);
      assert.equal(found.length, 1, line);
      assert.match(arrowViolation(found[0]!) ?? 'accepted', why, `${file}: ${line}`);
    }
    assert.equal(arrowViolation(importsOf('workflows/scenario-steps.ts', "import type { Activities } from '../activities';")[0]!), undefined, 'a type-only import is fine');
    assert.equal(arrowViolation(importsOf('worker/adapters.ts', "import { createLocalDatabasePlatform } from '../activities/adapters/local/postgres';")[0]!), undefined, 'the wiring point picks adapters');
  });
});
