import type { TaskProgress } from '@taskdock/shared/contract';
import {
  type LogStream,
  type OutputLimits,
  TaskFailure,
  type Workflow,
} from '../workflows/workflow.ts';
import { redactFailureStack } from './failure-stack.ts';
import { capResult } from './result-cap.ts';

/** One attempt of a task, as every engine's runner hands it over. */
export interface TaskAttemptRun {
  readonly workflow: Workflow;
  readonly taskId: string;
  readonly params: unknown;
  /** 1 for the first try. */
  readonly attempt: number;
  readonly timeoutMs: number | undefined;
  /** The runner's own stop (cancel, shutdown): the attempt then rejects with AttemptAborted. */
  readonly signal: AbortSignal;
  readonly limits: OutputLimits;
  /** Where log lines go (cut to `limits.logLineBytes` there); resolves when there is room. */
  log(text: string, stream: LogStream): Promise<void>;
  /** Each new progress value (a repeat of the last one is dropped). */
  progress(value: TaskProgress): Promise<void>;
}

/** The runner's signal stopped the attempt; `reason` is the signal's, `cause` what the run threw. */
export class AttemptAborted extends Error {
  constructor(
    readonly reason: unknown,
    cause: unknown,
  ) {
    super('The attempt was stopped by its runner', { cause });
    this.name = 'AttemptAborted';
  }
}

/**
 * Runs one attempt of a task: the workflow's context, its timeout, the result cap and the
 * failure as stored. Resolves with the result to store (capped; a line in the log says so);
 * rejects with AttemptAborted when the runner's signal stopped it, else with the failure (a
 * TaskFailure TIMEOUT once `timeoutMs` passed), its message logged and its stack redacted.
 */
export async function runTaskAttempt(run: TaskAttemptRun): Promise<unknown> {
  const { workflow, signal, timeoutMs, limits } = run;
  const taskSignal = timeoutMs ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : signal;
  let lastProgress = '';
  try {
    const result = await workflow.run({
      taskId: run.taskId,
      params: run.params,
      signal: taskSignal,
      attempt: run.attempt,
      limits,
      log: (text, stream = 'stdout') => run.log(text, stream),
      progress: async (percent, step) => {
        const value = step === undefined ? { percent } : { percent, step };
        const text = JSON.stringify(value);
        if (text === lastProgress) return;
        lastProgress = text;
        await run.progress(value);
      },
    });
    // The one place a result is readied for the store: past the cap, only a preview is kept.
    const stored = capResult(result, limits.resultBytes);
    if (stored !== result) {
      void run.log(
        `Result is over TASKDOCK_MAX_RESULT_BYTES (${limits.resultBytes}): stored truncated`,
        'system',
      );
    }
    return stored;
  } catch (err) {
    if (signal.aborted) throw new AttemptAborted(signal.reason, err);
    const failure =
      taskSignal.aborted && !signal.aborted
        ? new TaskFailure(`Timed out after ${timeoutMs} ms`, 'TIMEOUT')
        : err;
    const message = failure instanceof Error ? failure.message : String(failure);
    void run.log(message, 'system');
    redactFailureStack(failure);
    throw failure;
  }
}
