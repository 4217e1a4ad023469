import { readFileSync, readlinkSync } from 'node:fs';
import { processStartTime } from '@taskdock/shared/node/processes';

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
