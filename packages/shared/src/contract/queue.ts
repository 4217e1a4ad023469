import { type Static, Type } from '@sinclair/typebox';
import { WorkflowName } from './task-id.ts';

export const QUEUE_LIMITS = {
  /** Largest global concurrency one can set (BullMQ has no bound of its own). */
  maxGlobalConcurrency: 10_000,
  /** Finished tasks one remove-finished call deletes; `remaining` says how many are left. */
  maxRemovePerCall: 10_000,
} as const;

/** A workflow's queue as its controls show it (BullMQ's queue meta). */
export const QueueState = Type.Object({
  workflow: Type.String(),
  /** Paused: no worker starts a task of this workflow; queued tasks wait until resumed. */
  paused: Type.Boolean(),
  /** At most this many of its tasks run at once across all workers; null: no such limit. */
  globalConcurrency: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
});
export type QueueState = Static<typeof QueueState>;

export const QueueList = Type.Object({ items: Type.Array(QueueState) });
export type QueueList = Static<typeof QueueList>;

export const QueueParams = Type.Object({ workflow: WorkflowName });
export type QueueParams = Static<typeof QueueParams>;

export const SetGlobalConcurrency = Type.Object(
  {
    limit: Type.Union([
      Type.Integer({ minimum: 1, maximum: QUEUE_LIMITS.maxGlobalConcurrency }),
      Type.Null(),
    ]),
  },
  { additionalProperties: false },
);
export type SetGlobalConcurrency = Static<typeof SetGlobalConcurrency>;

export const RemoveFinished = Type.Object(
  {
    /** Tasks that finished (completed, failed or cancelled) at or before this time. */
    finishedBefore: Type.String({ format: 'date-time', maxLength: 64 }),
    /** Count only: `matched` is what a real call would remove; nothing is removed. */
    dryRun: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type RemoveFinished = Static<typeof RemoveFinished>;

export const RemoveFinishedResult = Type.Object({
  /** Finished tasks of the workflow that match, before this call removed any. */
  matched: Type.Integer({ minimum: 0 }),
  removed: Type.Integer({ minimum: 0 }),
  /** Still matching after this call (more than maxRemovePerCall matched): call again. */
  remaining: Type.Integer({ minimum: 0 }),
});
export type RemoveFinishedResult = Static<typeof RemoveFinishedResult>;
