import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { killTree } from '@taskdock/shared/node/processes';

/** How long a stopped command may clean up after SIGTERM before its tree is killed. */
const KILL_GRACE_MS = 5000;
const STDERR_TAIL_LINES = 20;
/** `::progress 40 [step]`, as the built-in shell workflow reads it. */
const PROGRESS_LINE = /^::progress\s+(\d+(?:\.\d+)?)(?:\s+(.*))?$/;

export interface TaskCommandOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Written to stdin as JSON. */
  readonly params: unknown;
  readonly onProgress: (percent: number, step: string | undefined) => void;
  readonly onLog: (line: string) => void;
}

export interface TaskCommandRun {
  /** Asks the command to stop (SIGTERM, then its whole tree is killed after a grace). */
  stop(): void;
  readonly finished: Promise<TaskCommandOutcome>;
}

export type TaskCommandOutcome =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly message: string; readonly code: string };

/** `TASKDOCK_PARAM_<KEY>`: the key upper-cased, anything but letters and digits as `_`. */
export function paramEnv(params: unknown): Record<string, string> {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return {};
  return Object.fromEntries(
    Object.entries(params).map(([key, value]) => [
      `TASKDOCK_PARAM_${key.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`,
      typeof value === 'string' ? value : JSON.stringify(value),
    ]),
  );
}

/**
 * Runs the worker's command for one task: params as JSON on stdin (and in the env), stdout
 * lines `::progress N [step]` as progress, every other line of stdout and stderr as a log line,
 * the last stdout line that is JSON as the result, the exit code as the outcome.
 */
export function runTaskCommand(options: TaskCommandOptions): TaskCommandRun {
  const child = spawn(options.command, [...options.args], {
    env: { ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let result: unknown;
  const stderrTail: string[] = [];
  let stopping: NodeJS.Timeout | undefined;

  createInterface({ input: child.stdout }).on('line', (line) => {
    const progress = PROGRESS_LINE.exec(line);
    if (progress) return options.onProgress(Math.min(100, Number(progress[1])), progress[2]);
    options.onLog(line);
    try {
      result = JSON.parse(line);
    } catch {
      // Not JSON: a log line only.
    }
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    options.onLog(line);
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
  });
  // A command that does not read its stdin closes it: that is no failure.
  child.stdin.on('error', () => {});
  child.stdin.end(`${JSON.stringify(options.params ?? {})}\n`);

  const finished = new Promise<TaskCommandOutcome>((resolve) => {
    child.once('error', (err) =>
      resolve({
        ok: false,
        message: `Cannot run ${options.command}: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
        code: 'SPAWN_FAILED',
      }),
    );
    child.once('close', (code, signal) => {
      clearTimeout(stopping);
      if (code === 0) return resolve({ ok: true, result });
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const tail = stderrTail.length > 0 ? `:\n${stderrTail.join('\n')}` : '';
      resolve({ ok: false, message: `${options.command} ${how}${tail}`, code: 'EXIT_CODE' });
    });
  });

  return {
    finished,
    stop() {
      if (stopping || child.exitCode !== null || child.pid === undefined) return;
      const pid = child.pid;
      child.kill('SIGTERM');
      stopping = setTimeout(() => void killTree(pid, 'SIGKILL'), KILL_GRACE_MS);
    },
  };
}
