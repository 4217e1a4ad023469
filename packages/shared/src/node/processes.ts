import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import treeKill from 'tree-kill';

/** Whether a process with this pid runs (a zombie waiting to be reaped does not count). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

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

/** The command line of a running process ('' when unknown), to check what a stale pid is. */
export function commandLine(pid: number): string {
  try {
    if (process.platform === 'linux') {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    }
    if (process.platform === 'win32') {
      const csv = execFileSync('tasklist', ['/FI', `PID eq ${pid}`, '/FO', 'CSV', '/NH'], {
        encoding: 'utf8',
        timeout: 5000,
        windowsHide: true,
      });
      return csv.includes(`"${pid}"`) ? (csv.split('","')[0] ?? '').replace(/^"/, '') : '';
    }
    return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], {
      encoding: 'utf8',
      timeout: 5000,
    }).trim();
  } catch {
    return '';
  }
}

/** Kills the process and every descendant (taskkill /T on Windows, a ps walk elsewhere). */
export function killTree(pid: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  // kill(-1) or kill(0) would signal every process we may signal: never let a bad pid through.
  if (!Number.isSafeInteger(pid) || pid <= 1) return Promise.resolve();
  return new Promise((resolve) => {
    treeKill(pid, signal, () => resolve());
  });
}

/**
 * The pids of every descendant of `pid` right now (POSIX; [] on Windows, where taskkill /T
 * covers the tree). Taken before a graceful stop: once a process is gone, its orphans are not.
 */
export function descendants(pid: number): Promise<number[]> {
  if (process.platform === 'win32' || pid <= 1) return Promise.resolve([]);
  return new Promise((resolve) => {
    execFile('ps', ['-A', '-o', 'pid=,ppid='], { timeout: 5000 }, (err, stdout) => {
      if (err) return resolve([]);
      const children = new Map<number, number[]>();
      for (const row of stdout.split('\n')) {
        const [child, parent] = row.trim().split(/\s+/).map(Number);
        if (!child || !parent) continue;
        children.set(parent, [...(children.get(parent) ?? []), child]);
      }
      const found: number[] = [];
      const queue = [pid];
      while (queue.length > 0) {
        for (const child of children.get(queue.shift() as number) ?? []) {
          found.push(child);
          queue.push(child);
        }
      }
      resolve(found);
    });
  });
}

/** Polls until the pid is gone; false when it still exists after `timeoutMs`. */
export async function waitForExit(
  pid: number,
  timeoutMs: number,
  intervalMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return true;
}
