import type { Static, TSchema } from '@sinclair/typebox';

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface WorkflowContext<P> {
  readonly taskId: string;
  readonly params: P;
  /** Fires on cancel, timeout and worker shutdown; `signal.reason` says which. */
  readonly signal: AbortSignal;
  /** 1 for the first try. */
  readonly attempt: number;
  progress(percent: number, step?: string): Promise<void>;
  log(text: string, stream?: LogStream): void;
}

export interface Workflow<S extends TSchema = TSchema> {
  readonly name: string;
  readonly description: string;
  /** JSON Schema of `params`; the API validates against it before enqueueing. */
  readonly paramsSchema: S;
  run(ctx: WorkflowContext<Static<S>>): Promise<unknown>;
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

/** Keeps the last `max` items; used for stderr tails and capped outputs. */
export class Tail {
  readonly #items: string[] = [];
  constructor(readonly max: number) {}
  push(item: string): void {
    this.#items.push(item);
    if (this.#items.length > this.max) this.#items.shift();
  }
  text(): string {
    return this.#items.join('\n');
  }
}
