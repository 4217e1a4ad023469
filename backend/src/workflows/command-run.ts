import type { Readable } from 'node:stream';
import { pumpLines, Tail } from './output-lines.ts';
import { type ProcessGroupTracker, startTaskProcess } from './task-process.ts';
import { type LogStream, TaskFailure, type WorkflowContext } from './workflow.ts';

/** Lines of stderr quoted in a failure, and their bytes (the message shows in task lists). */
const STDERR_TAIL = { lines: 20, bytes: 4096 };

const PROGRESS_LINE = /^::progress\s+(\d{1,3}(?:\.\d+)?)(?:\s+(.*))?$/;

/** `::progress 40 compiling` → `{ percent: 40, step: 'compiling' }`; anything else → null. */
export function parseProgressLine(line: string): { percent: number; step?: string } | null {
  const match = PROGRESS_LINE.exec(line.trim());
  if (!match?.[1]) return null;
  const percent = Math.min(100, Number(match[1]));
  const step = match[2]?.trim();
  return step ? { percent, step } : { percent };
}

export interface CommandSpec {
  readonly command: string;
  /** Each one argument as it is: no shell ever splits or expands them. */
  readonly args: readonly string[];
  readonly cwd: string | undefined;
  /** Complete: the command gets nothing else. */
  readonly env: Readonly<Record<string, string>>;
}

export interface CommandOptions {
  /** Whether stdout lines `::progress N [step]` set the task's progress instead of logging. */
  readonly progressLines: boolean;
  /** Called with each stdout line that is not a progress line, after it is logged. */
  readonly onStdout: (line: string) => void;
  /** The worker's record of running tasks' process groups (none in the API process). */
  readonly processGroups: ProcessGroupTracker | undefined;
}

/**
 * Runs a task's command to its end: output lines become the task's logs, and a non-zero exit a
 * TaskFailure (EXIT_CODE or KILLED) quoting the end of stderr. Shared by `shell` and the
 * declarative workflows.
 */
export async function runCommand(
  ctx: Pick<WorkflowContext<unknown>, 'taskId' | 'signal' | 'log' | 'progress' | 'limits'>,
  spec: CommandSpec,
  options: CommandOptions,
): Promise<void> {
  const { taskId, signal, log, progress, limits } = ctx;
  // Its own process group, killed whole on abort and when the worker dies (task-process.ts).
  const child = await startTaskProcess({ ...spec, signal });
  const untrack = child.group ? options.processGroups?.track(taskId, child.pid) : undefined;
  const stderrTail = new Tail(STDERR_TAIL.lines, STDERR_TAIL.bytes);
  // Awaiting each line's log write (and progress update) holds the child back when it prints
  // faster than Redis takes it: the worker's memory stays flat.
  const pump = (stream: Readable, name: LogStream, onLine: (line: string) => void) =>
    pumpLines(stream, limits.logLineBytes, async (line) => {
      const update = options.progressLines ? parseProgressLine(line) : null;
      if (update) return progress(update.percent, update.step);
      onLine(line);
      await log(line, name);
    });
  try {
    await Promise.all([
      pump(child.stdout, 'stdout', options.onStdout),
      pump(child.stderr, 'stderr', (line) => stderrTail.push(line)),
    ]);
    const { code: exitCode, signal: exitSignal } = await child.exited;
    signal.throwIfAborted();
    if (exitCode !== 0) {
      const how =
        exitCode === null ? `was killed by ${exitSignal}` : `exited with code ${exitCode}`;
      const tail = stderrTail.text();
      throw new TaskFailure(
        `${spec.command} ${how}${tail ? `:\n${tail}` : ''}`,
        exitCode === null ? 'KILLED' : 'EXIT_CODE',
      );
    }
  } finally {
    untrack?.();
  }
}
