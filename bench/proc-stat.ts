/**
 * CPU times of a process from /proc/<pid>/stat, for the benchmarks that say where the time goes
 * (the risk API bench, the latency calibration). Linux only.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second (USER_HZ, 100 on Linux): the unit of the CPU times in /proc/<pid>/stat. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** A process's parent and CPU seconds: its own (utime + stime) and its ended children's (cutime + cstime). */
export interface ProcCpu {
  readonly ppid: number;
  readonly ownSeconds: number;
  readonly childrenSeconds: number;
}

/** procCpu reads /proc/<pid>/stat; undefined once the process is gone (or between listing and reading). */
export function procCpu(pid: number | string): ProcCpu | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name, which may hold spaces: state, ppid, …, utime (14), stime, cutime, cstime.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const seconds = (i: number) => Number(f[i]) / CLOCK_TICKS_PER_SECOND;
  return {
    ppid: Number(f[1]),
    ownSeconds: seconds(11) + seconds(12),
    childrenSeconds: seconds(13) + seconds(14),
  };
}
