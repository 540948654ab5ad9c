import { readFileSync } from 'node:fs';
import { Pool } from 'pg';
import { diffTable } from '../activities/validation/key-range-diff';

// One key-range diff in its own process, so its peak memory (VmHWM) is the diff's and nothing else's.
// Env: BENCH_SOURCE_URL, BENCH_TARGET_URL, BENCH_TABLE. Prints one JSON line.
function peakRssKb(): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return line ? Number(/(\d+)/.exec(line)![1]) : Math.round(process.memoryUsage().rss / 1024);
}

async function main(): Promise<void> {
  const source = new Pool({ connectionString: process.env.BENCH_SOURCE_URL, max: 2 });
  const target = new Pool({ connectionString: process.env.BENCH_TARGET_URL, max: 2 });
  try {
    const startKb = peakRssKb();
    let sampledKb = 0;
    const sampler = setInterval(() => { sampledKb = Math.max(sampledKb, Math.round(process.memoryUsage().rss / 1024)); }, 100);
    const started = performance.now();
    const diff = await diffTable(source, target, { table: process.env.BENCH_TABLE! });
    const ms = performance.now() - started;
    clearInterval(sampler);
    console.log(JSON.stringify({
      ms,
      startKb,
      peakKb: peakRssKb(),
      sampledKb,
      rows: [diff.sourceRows, diff.targetRows],
      missing: diff.missingInTarget.length,
      extra: diff.extraInTarget.length,
      changed: diff.changed.length,
      stats: diff.stats,
    }));
  } finally {
    await Promise.all([source.end(), target.end()]);
  }
}

main().catch((error: Error) => {
  console.error(`diff-child: ${error.message}`);
  process.exit(1);
});
