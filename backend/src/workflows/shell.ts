import type { Readable } from 'node:stream';
import { pumpLines, Tail } from './output-lines.ts';
import { checkShellParams, ShellParams } from './shell-params.ts';
import { type ProcessGroupTracker, startTaskProcess } from './task-process.ts';
import { defineWorkflow, type LogStream, TaskFailure } from './workflow.ts';

/** Lines of stderr quoted in a failure, and their bytes (the message shows in task lists). */
const STDERR_TAIL = { lines: 20, bytes: 4096 };
const STDOUT_TAIL_LINES = 100;

const PROGRESS_LINE = /^::progress\s+(\d{1,3}(?:\.\d+)?)(?:\s+(.*))?$/;

/** `::progress 40 compiling` → `{ percent: 40, step: 'compiling' }`; anything else → null. */
export function parseProgressLine(line: string): { percent: number; step?: string } | null {
  const match = PROGRESS_LINE.exec(line.trim());
  if (!match?.[1]) return null;
  const percent = Math.min(100, Number(match[1]));
  const step = match[2]?.trim();
  return step ? { percent, step } : { percent };
}

/** What a command inherits from the worker's environment; nothing else leaks into tasks. */
export const SHELL_ENV_KEYS = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'TEMP',
  'TMP',
  'SystemRoot',
  'SystemDrive',
  'ComSpec',
  'PATHEXT',
  'WINDIR',
  'USERPROFILE',
  'APPDATA',
  'LOCALAPPDATA',
] as const;

export function pickEnv(
  env: Readonly<Record<string, string | undefined>>,
  keys: readonly string[],
): Record<string, string> {
  return Object.fromEntries(
    keys.flatMap((key) => (env[key] === undefined ? [] : [[key, env[key]]])),
  );
}

export interface ShellOptions {
  /** The variables every command starts with (PATH, HOME, …); params.env is laid over them. */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** The worker's record of running tasks' process groups (none in the API process). */
  readonly processGroups?: ProcessGroupTracker;
}

export function createShellWorkflow({ baseEnv, processGroups }: ShellOptions) {
  return defineWorkflow({
    name: 'shell',
    description:
      'Runs a program without a shell. Output lines become task logs; a line "::progress N [step]" sets progress.',
    paramsSchema: ShellParams,
    checkParams: checkShellParams,
    async run({ taskId, params, signal, log, progress, limits }) {
      // Its own process group, killed whole on abort and when the worker dies (task-process.ts).
      const child = await startTaskProcess({
        command: params.command,
        args: params.args ?? [],
        cwd: params.cwd,
        env: { ...baseEnv, ...params.env },
        signal,
      });
      const untrack = child.group ? processGroups?.track(taskId, child.pid) : undefined;

      const stderrTail = new Tail(STDERR_TAIL.lines, STDERR_TAIL.bytes);
      // An eighth of the result cap: even escaped as JSON, the result stays within it.
      const stdoutTail = new Tail(STDOUT_TAIL_LINES, Math.floor(limits.resultBytes / 8));
      // Awaiting each line's log write (and progress update) holds the child back when it
      // prints faster than Redis takes it: the worker's memory stays flat.
      const pump = (stream: Readable, name: LogStream, tail: Tail) =>
        pumpLines(stream, limits.logLineBytes, (line) => {
          const update = parseProgressLine(line);
          if (update) return progress(update.percent, update.step);
          tail.push(line);
          return log(line, name);
        });

      try {
        await Promise.all([
          pump(child.stdout, 'stdout', stdoutTail),
          pump(child.stderr, 'stderr', stderrTail),
        ]);
        const { code: exitCode, signal: exitSignal } = await child.exited;
        signal.throwIfAborted();
        if (exitCode !== 0) {
          const how =
            exitCode === null ? `was killed by ${exitSignal}` : `exited with code ${exitCode}`;
          const tail = stderrTail.text();
          throw new TaskFailure(
            `${params.command} ${how}${tail ? `:\n${tail}` : ''}`,
            exitCode === null ? 'KILLED' : 'EXIT_CODE',
          );
        }
        return {
          exitCode,
          stdoutTail: stdoutTail.text(),
          // The whole output is in the task's logs (up to their caps).
          ...(stdoutTail.truncated ? { truncated: true } : {}),
        };
      } finally {
        untrack?.();
      }
    },
  });
}
