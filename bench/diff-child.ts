import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { createDirectoryObjectStore } from '../activities/adapters/local/directory-object-store';
import { defaultValidationSettings } from '../activities/validation';
import { DiffPartWriter } from '../activities/validation/diff-parts';
import { streamTableDiff } from '../activities/validation/key-range-diff';

// One key-range diff in its own process, so its peak memory (VmHWM) is the diff's and nothing else's.
// It streams the differences to a directory object store in parts, as the diffTable activity does.
// Env: BENCH_SOURCE_URL, BENCH_TARGET_URL, BENCH_TABLE. Prints one JSON line.
function peakRssKb(): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return line ? Number(/(\d+)/.exec(line)![1]) : Math.round(process.memoryUsage().rss / 1024);
}

async function main(): Promise<void> {
  const source = new Pool({ connectionString: process.env.BENCH_SOURCE_URL, max: 2 });
  const target = new Pool({ connectionString: process.env.BENCH_TARGET_URL, max: 2 });
  const storeDir = mkdtempSync(path.join(os.tmpdir(), 'dr-bench-diff-'));
  try {
    const store = createDirectoryObjectStore(storeDir);
    const table = process.env.BENCH_TABLE!;
    const startKb = peakRssKb();
    let sampledKb = 0;
    let heapKb = 0;
    const sampler = setInterval(() => {
      const usage = process.memoryUsage();
      sampledKb = Math.max(sampledKb, Math.round(usage.rss / 1024));
      heapKb = Math.max(heapKb, Math.round(usage.heapTotal / 1024));
    }, 100);
    const started = performance.now();
    const writer = new DiffPartWriter(store, `diffs/bench/${table}`, defaultValidationSettings.diffPartKeys, 20);
    const totals = await streamTableDiff(source, target, { table }, writer);
    const { manifest } = await writer.finish(totals);
    const ms = performance.now() - started;
    clearInterval(sampler);
    console.log(JSON.stringify({
      ms,
      startKb,
      peakKb: peakRssKb(),
      sampledKb,
      heapKb,
      rows: [totals.sourceRows, totals.targetRows],
      missing: totals.counts.missingInTarget,
      extra: totals.counts.extraInTarget,
      changed: totals.counts.changed,
      parts: Object.values(manifest.parts).reduce((n, parts) => n + parts.length, 0),
      stats: totals.stats,
    }));
  } finally {
    rmSync(storeDir, { recursive: true, force: true });
    await Promise.all([source.end(), target.end()]);
  }
}

main().catch((error: Error) => {
  console.error(`diff-child: ${error.message}`);
  process.exit(1);
});
