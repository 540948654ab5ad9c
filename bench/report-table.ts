/** One benchmark's outcome: its figure, the raw operation it is measured against (if any), and its goal. */
export interface BenchResult {
  name: string;
  /** The measured figure, already formatted (e.g. "4.21 s", "182 MB"). */
  figure: string;
  /** The raw operation's figure measured in the same run, formatted; absent when there is none. */
  raw?: string;
  /** figure / raw, or the benchmark's own ratio (memory growth). */
  ratio?: number;
  goal: string;
  met: boolean | undefined;
  note?: string;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function formatMegabytes(kb: number): string {
  return `${(kb / 1024).toFixed(0)} MB`;
}

/** The middle value (the lower of the two middles for an even count): one slow outlier does not move it. */
export function median(values: number[]): number {
  if (!values.length) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** A plain-text table (fixed-width columns), one row per benchmark, notes underneath. */
export function renderTable(results: BenchResult[]): string {
  const header = ['benchmark', 'figure', 'raw', 'ratio', 'goal', 'verdict'];
  const rows = results.map((r) => [
    r.name,
    r.figure,
    r.raw ?? '—',
    r.ratio === undefined ? '—' : r.ratio.toFixed(2),
    r.goal,
    r.met === undefined ? '—' : r.met ? 'met' : 'NOT met',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  const notes = results.filter((r) => r.note).map((r) => `* ${r.name}: ${r.note}`);
  return [...out, ...(notes.length ? ['', ...notes] : [])].join('\n');
}
