import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import treeKill from 'tree-kill';
import { TaskFailure } from './workflow.ts';

/**
 * POSIX: the task runs as the leader of its own process group (`detached`: a new session),
 * started through this /bin/sh wrapper. The wrapper forks a watcher that blocks reading fd 3, a
 * pipe whose other end only the worker holds, then execs the command with fd 3 closed (same pid,
 * so the exit code and signal are the command's own). When the worker closes its end (the
 * command exited) or dies in any way (SIGKILL included: the kernel closes it), the watcher reads
 * EOF and SIGKILLs the whole group: nothing of a task outlives its command or its worker. The
 * watcher's stdio is /dev/null, so it never holds the task's output pipes open.
 *
 * Windows has no sh and no process groups: the command is spawned directly and killed with its
 * process tree. The design there is a job object with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE (the
 * kernel kills the job when the worker's handle closes); it needs native code, which Taskdock
 * does not ship, so it is not built.
 */
const WRAPPER =
  '( read -r lifeline <&3; kill -s KILL 0 ) </dev/null >/dev/null 2>&1 & exec "$@" 3<&-';
/** `$0` of the wrapper: what sh's own messages start with. */
const WRAPPER_NAME = 'taskdock-task';
/** What execvp searches when the environment has no PATH. */
const DEFAULT_PATH = '/usr/bin:/bin';
const GROUPS = process.platform !== 'win32';

export interface TaskProcessOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string | undefined;
  /** Complete: the command gets nothing else. */
  readonly env: Readonly<Record<string, string>>;
  /** Kills the task's whole process group (Windows: its process tree). */
  readonly signal: AbortSignal;
}

export interface TaskExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface TaskProcess {
  readonly pid: number;
  /** Whether `pid` leads a process group of its own (POSIX). */
  readonly group: boolean;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** The command exited and its output pipes are closed. */
  readonly exited: Promise<TaskExit>;
}

/** SIGKILL to every process of the group `pgid`; false when none is left. */
export function killProcessGroup(pgid: number): boolean {
  // kill(-1) and kill(0) would hit far more than a task: never let a bad id through.
  if (!Number.isSafeInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a task's command. Rejects with a TaskFailure: CWD_NOT_FOUND, COMMAND_NOT_FOUND or
 * SPAWN_FAILED.
 */
export async function startTaskProcess(options: TaskProcessOptions): Promise<TaskProcess> {
  const { command, args, cwd, env, signal } = options;
  if (cwd !== undefined) {
    // Checked first: spawn reports a missing cwd as ENOENT, the same as a missing command.
    const info = await stat(cwd).catch(() => undefined);
    if (!info?.isDirectory()) {
      const what = info ? 'is not a directory' : 'does not exist';
      throw new TaskFailure(`Working directory ${cwd} ${what}`, 'CWD_NOT_FOUND');
    }
  }
  if (GROUPS) {
    // sh reports a failed exec only as exit code 127/126: look the command up the way execvp
    // will, so "not found" stays a clear failure instead of an exit code.
    const found = await findExecutable(command, env.PATH, cwd);
    if (found === 'missing') {
      throw new TaskFailure(`Command not found: ${command}`, 'COMMAND_NOT_FOUND');
    }
    if (found === 'not-executable') {
      throw new TaskFailure(`Cannot start ${command}: not an executable file`, 'SPAWN_FAILED');
    }
  }
  signal.throwIfAborted();
  const child = GROUPS
    ? spawn('/bin/sh', ['-c', WRAPPER, WRAPPER_NAME, command, ...args], {
        cwd,
        env: { ...env },
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        detached: true,
      })
    : spawn(command, [...args], {
        cwd,
        env: { ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
  const lifeline = GROUPS ? child.stdio[3] : null;
  let running = true;
  const kill = () => {
    if (!running || child.pid === undefined) return;
    if (GROUPS) killProcessGroup(child.pid);
    else treeKill(child.pid, 'SIGKILL');
  };
  signal.addEventListener('abort', kill, { once: true });
  const exited = new Promise<TaskExit>((resolve) => {
    child.once('close', (code, exitSignal) => resolve({ code, signal: exitSignal }));
  });
  child.once('exit', () => {
    running = false;
    signal.removeEventListener('abort', kill);
    // The watcher wakes up and kills what the command left running in its group.
    lifeline?.destroy();
  });
  try {
    await once(child, 'spawn');
  } catch (err) {
    running = false;
    signal.removeEventListener('abort', kill);
    lifeline?.destroy();
    const code = (err as NodeJS.ErrnoException).code;
    throw new TaskFailure(
      code === 'ENOENT' && !GROUPS
        ? `Command not found: ${command}`
        : `Cannot start ${command}: ${(err as Error).message}`,
      code === 'ENOENT' && !GROUPS ? 'COMMAND_NOT_FOUND' : 'SPAWN_FAILED',
    );
  }
  return {
    pid: child.pid as number,
    group: GROUPS,
    stdout: child.stdout as Readable,
    stderr: child.stderr as Readable,
    exited,
  };
}

/** Where execvp would find `command`: relative names through PATH, paths with a slash as they are. */
async function findExecutable(
  command: string,
  pathEnv: string | undefined,
  cwd: string | undefined,
): Promise<'found' | 'missing' | 'not-executable'> {
  const base = path.resolve(cwd ?? '.');
  const candidates = command.includes('/')
    ? [path.resolve(base, command)]
    : (pathEnv ?? DEFAULT_PATH).split(':').map((dir) => path.resolve(base, dir, command));
  let exists = false;
  for (const file of candidates) {
    const info = await stat(file).catch(() => undefined);
    if (!info) continue;
    exists = true;
    if (
      info.isFile() &&
      (await access(file, constants.X_OK).then(
        () => true,
        () => false,
      ))
    ) {
      return 'found';
    }
  }
  return exists ? 'not-executable' : 'missing';
}

/** Where the worker records the process group of each running task, for the reaper. */
export interface ProcessGroupTracker {
  /** Records the group `pgid` of `taskId`; the returned function forgets it. */
  track(taskId: string, pgid: number): () => void;
}
