import { readFileSync } from 'node:fs';

/** CPU seconds (user + system, all threads) a process has used so far, from /proc/<pid>/stat. */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime: fields 14 and 15 of stat(5)
    return ticks * 10; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time each bench process spends over a stretch of the run. On a shared, noisy machine a
 * process's CPU time per delivery moves much less than its throughput does, so it says which
 * process is the bottleneck and by how much a change made it cheaper.
 */
export function startCpuMeter(pids: Record<string, number>): { finish(): Record<string, number> } {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMsOf(pid)]));
  return {
    finish: () => Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMsOf(pid) - (before[name] as number)])),
  };
}
