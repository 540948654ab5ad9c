import type { AppHealth } from '../../activities/ports/app-runtime';
import type { SecretStore } from '../../activities/ports/secret-store';
import { repoRoot } from '../../stack/paths';
import { demoServiceCommand } from '../../stack/local-stack';

/** The local runtime's options for the demo financial service, as the local stack's config names it. */
export function demoService(secrets: SecretStore) {
  return { command: demoServiceCommand(), workingDirectory: repoRoot, secrets };
}

/** The demo service's integrity totals, as its AppHealth reports them (the local runtime's one named check). */
export function appFigures(health: AppHealth): { userCount: number; transactionCount: number; totalAmount: string } {
  const check = health.checks.find((c) => c.name === 'integrity totals');
  if (!check?.figures) throw new Error(`no integrity totals in ${JSON.stringify(health.checks)}`);
  return check.figures as never;
}

/** "process 4711" (what the local runtime says it started) → 4711. */
export function pidOf(what: string): number {
  const match = /^process (\d+)$/.exec(what);
  if (!match) throw new Error(`"${what}" does not name a process`);
  return Number(match[1]);
}
