import type { Static, TSchema } from '@sinclair/typebox';
import type { FieldError } from '@taskdock/shared/contract';

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface WorkflowContext<P> {
  readonly taskId: string;
  readonly params: P;
  /** Fires on cancel, timeout and worker shutdown; `signal.reason` says which. */
  readonly signal: AbortSignal;
  /** 1 for the first try. */
  readonly attempt: number;
  /** The worker's output caps; a workflow that produces output as it goes keeps within them. */
  readonly limits: OutputLimits;
  progress(percent: number, step?: string): Promise<void>;
  /**
   * Adds a log line (cut at `limits.logLineBytes`). Resolves when the log writer has room for
   * more: a workflow that logs a lot awaits it, so it never runs ahead of Redis. Never rejects.
   */
  log(text: string, stream?: LogStream): Promise<void>;
}

export interface OutputLimits {
  /** UTF-8 bytes of the stored result as JSON (TASKDOCK_MAX_RESULT_BYTES). */
  readonly resultBytes: number;
  /** UTF-8 bytes of one log line (TASKDOCK_MAX_LOG_LINE_BYTES). */
  readonly logLineBytes: number;
  /** Bytes of an HTTP response body that are read (TASKDOCK_MAX_HTTP_BODY_BYTES). */
  readonly httpBodyBytes: number;
}

export interface Workflow<S extends TSchema = TSchema> {
  readonly name: string;
  readonly description: string;
  /** JSON Schema of `params`; the API validates against it before enqueueing. */
  readonly paramsSchema: S;
  /**
   * What the schema cannot say (valid header names, absolute paths, …), checked by the API
   * after the schema passed: each problem with its path inside `params`, e.g. `/cwd`.
   */
  checkParams?(params: Static<S>): FieldError[];
  /** At most this many of its tasks run at once across all workers (BullMQ global concurrency). */
  readonly concurrency?: number;
  /** Task options used when a create request does not give them. */
  readonly taskDefaults?: TaskDefaults;
  run(ctx: WorkflowContext<Static<S>>): Promise<unknown>;
}

export interface TaskDefaults {
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  /** Wait before a retry: `exponential` doubles it each time. */
  readonly backoff?: { readonly type: 'fixed' | 'exponential'; readonly delayMs: number };
}

/** A failure with a machine-readable code, shown as `error.code` on the task. */
export class TaskFailure extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'TaskFailure';
  }
}

export function defineWorkflow<S extends TSchema>(workflow: Workflow<S>): Workflow<S> {
  return workflow;
}
