import type { Task } from '@taskdock/shared/contract';

/** The exit codes scripts rely on (README "Command line"): one meaning each. */
export const EXIT = {
  ok: 0,
  /** The task failed (or, for a bulk command, one of its requests did). */
  failed: 1,
  /** The task was cancelled or timed out. */
  cancelled: 2,
  /** Bad usage, or no Taskdock to talk to. */
  usage: 3,
  notFound: 4,
} as const;
type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code of a finished task: a timeout counts as cancelled, not as a failure. */
export function exitCodeOf(task: Pick<Task, 'status' | 'error'>): ExitCode {
  if (task.status === 'completed') return EXIT.ok;
  if (task.status === 'cancelled' || task.error?.code === 'TIMEOUT') return EXIT.cancelled;
  return EXIT.failed;
}

/** An error the CLI reports in one line and exits with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.usage,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The hint every "no app" error ends with. */
export const START_HINT = 'start Taskdock or run npm run serve';
