import { readdirSync, readFileSync } from 'node:fs';

// On shared cores a wall-clock figure says as much about the neighbours as about the work: at a load
// average of 10 on 2 cores the same gate takes anywhere from 40 to 80 s. The CPU time the server's
// processes spend does not depend on how long they waited for a core, so the benchmark reports it beside
// the wall clock. Linux only (from /proc); elsewhere undefined.

/** Clock ticks per second of /proc's CPU fields (USER_HZ, 100 on every Linux the project runs on). */
const ticksPerSecond = 100;

function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after it are split from its closing parenthesis.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + system) spent so far by the cluster whose postmaster is `postmaster`: its live
 * processes (the backends, whose lifetime spans the pool's) and the children it has reaped (the parallel
 * workers of finished queries are counted in its children's time).
 */
export function serverCpuSeconds(postmaster: number): number | undefined {
  const own = statFields(postmaster);
  if (!own) return undefined;
  // After the command: state, ppid, … utime is field 14 and cutime 16 of stat(5), here 11 and 13 from state.
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === postmaster) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[1]) === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / ticksPerSecond;
}

/** The CPU seconds the server spends while `work` runs (undefined where /proc cannot tell). */
export async function serverCpuDuring<T>(postmaster: number, work: () => Promise<T>): Promise<{ value: T; cpuSeconds: number | undefined }> {
  const before = serverCpuSeconds(postmaster);
  const value = await work();
  const after = serverCpuSeconds(postmaster);
  return { value, cpuSeconds: before === undefined || after === undefined ? undefined : after - before };
}
