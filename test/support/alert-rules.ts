import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../stack/paths';
import { durationSeconds } from '../../stack/prometheus-project-server';
import { promtoolBinary } from '../../stack/prometheus';

export const alertsDir = path.join(repoRoot, 'config', 'alerts');
export const rulesFile = path.join(alertsDir, 'disaster-recovery.rules.yml');
export const rulesTestFile = path.join(alertsDir, 'disaster-recovery.test.yml');
export const metricsContractFile = path.join(alertsDir, 'METRICS.md');

/**
 * The rules text with every `for:` longer than `maxFor` cut to `maxFor`, and nothing else changed, so a
 * test sees the shipped expressions and labels fire in seconds instead of minutes.
 */
export function withShortFor(rulesText: string, maxFor: string): string {
  return rulesText.replace(/^(\s+for:\s*)(\S+)\s*$/gm, (line, prefix: string, value: string) => (durationSeconds(value) > durationSeconds(maxFor) ? `${prefix}${maxFor}` : line));
}

/** Writes the shipped rules with short `for:` durations into `dir`; returns the file. */
export function writeShortForRules(dir: string, maxFor: string): string {
  const file = path.join(dir, 'disaster-recovery.short-for.rules.yml');
  writeFileSync(file, withShortFor(readFileSync(rulesFile, 'utf8'), maxFor));
  return file;
}

/** Runs the real promtool (`input` on its stdin); its output is returned, never thrown, so a test can show it. */
export function promtool(args: string[], cwd = alertsDir, input?: string): { status: number | null; output: string } {
  const result = spawnSync(promtoolBinary(), args, { cwd, encoding: 'utf8', timeout: 60_000, ...(input !== undefined ? { input } : {}) });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}
