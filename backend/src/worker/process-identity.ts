import { readFileSync, readlinkSync } from 'node:fs';

/**
 * When the process `pid` started, in clock ticks since boot (/proc/<pid>/stat, field 22): with
 * the pid it names one process, never a later one that reused the pid. Null when the process is
 * gone (or a zombie), or where there is no /proc.
 */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? null : (fields[19] ?? null);
  } catch {
    return null;
  }
}

/** Whether `pid` is still the process that started at `startTime`. */
export function isSameProcess(pid: number, startTime: string): boolean {
  return processStartTime(pid) === startTime;
}

/**
 * Names the set of pids this process lives among: the boot (pids restart after a reboot) and
 * the pid namespace (each container has its own). Null where there is no /proc.
 */
export function pidSpaceId(): string | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const namespace = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1];
    return boot && namespace ? `${boot}.${namespace}` : null;
  } catch {
    return null;
  }
}
