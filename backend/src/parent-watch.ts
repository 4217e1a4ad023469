import treeKill from 'tree-kill';

/** The parts of `process` the watch uses, so entries pass `process` and tests a stand-in. */
export interface WatchedProcess {
  readonly pid: number;
  readonly ppid: number;
  readonly connected?: boolean;
  on(event: 'disconnect', listener: () => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  kill(pid: number, signal?: string | number): true;
  exit(code?: number): never;
}

export interface ParentWatchOptions {
  /** TASKDOCK_PARENT_PID: the supervisor's pid, polled in addition to the IPC channel. */
  readonly parentPid: number | undefined;
  /** Start a graceful stop (idempotent); the watch forces the exit after `hardExitMs`. */
  readonly stop: (reason: string) => void;
  readonly hardExitMs?: number;
  readonly pollMs?: number;
}

function isAlive(proc: WatchedProcess, pid: number): boolean {
  try {
    proc.kill(pid, 0);
    return true;
  } catch {
    // ESRCH, or EPERM (the pid was reused by another user's process): our parent is gone.
    return false;
  }
}

/**
 * Makes a supervised process leave when its supervisor is gone, even when the supervisor was
 * killed with SIGKILL and could not stop it: the IPC channel closes ('disconnect'), or the
 * parent pid stops existing or is no longer our parent. It then stops gracefully and, if that
 * takes longer than `hardExitMs`, kills its own process tree (tasks' child processes included).
 * A `taskdock:stop` message on the channel is the polite stop request (Windows has no SIGTERM).
 */
export function watchParent(proc: WatchedProcess, options: ParentWatchOptions): void {
  const hardExitMs = options.hardExitMs ?? 3000;
  let gone = false;
  const parentGone = (why: string) => {
    if (gone) return;
    gone = true;
    clearInterval(poll);
    options.stop(why);
    setTimeout(() => {
      treeKill(proc.pid, 'SIGKILL', () => proc.exit(1));
    }, hardExitMs).unref();
  };

  proc.on('disconnect', () => parentGone('supervisor gone (IPC channel closed)'));
  proc.on('message', (message) => {
    if ((message as { type?: unknown } | null)?.type === 'taskdock:stop') {
      options.stop('stop requested by the supervisor');
    }
  });

  const parentPid = options.parentPid;
  const poll = setInterval(() => {
    if (parentPid === undefined) return;
    if (proc.ppid !== parentPid || !isAlive(proc, parentPid)) {
      parentGone(`supervisor gone (pid ${parentPid})`);
    }
  }, options.pollMs ?? 1000);
  poll.unref();
  if (parentPid === undefined && proc.connected !== true) clearInterval(poll);
}

/** TASKDOCK_PARENT_PID, set by the supervisor; undefined when absent or not a pid. */
export function parentPidFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): number | undefined {
  const raw = env.TASKDOCK_PARENT_PID;
  if (!raw || !/^\d+$/.test(raw)) return undefined;
  const pid = Number(raw);
  return pid > 1 ? pid : undefined;
}
