import { type Static, Type } from '@sinclair/typebox';
import { ListTasksQuery, TaskParams } from './task.ts';

export const BULK_ACTIONS = ['cancel', 'retry', 'delete'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

/**
 * One bulk call is bounded: it reads (and acts on) at most `maxPerCall` matching tasks and starts
 * no new batch after `callBudgetMs`, then returns a cursor to go on from. A dry run counts at
 * most `maxCount` matching tasks within the same time budget; a `nextCursor` then says the count
 * stopped early (call again with it to count on).
 */
export const BULK_LIMITS = {
  maxPerCall: 500,
  maxCount: 50_000,
  callBudgetMs: 5_000,
  /** Failures listed in one answer (`failedCount` counts them all). */
  maxFailuresListed: 50,
} as const;

/** The filters of `GET /api/tasks`, without its paging. */
export const BulkFilter = Type.Pick(ListTasksQuery, ['status', 'workflow', 'owner', 'q'], {
  additionalProperties: false,
});
export type BulkFilter = Static<typeof BulkFilter>;

export const BulkActionParams = Type.Object({
  action: Type.Union(BULK_ACTIONS.map((a) => Type.Literal(a))),
});
export type BulkActionParams = Static<typeof BulkActionParams>;

export const BulkActionRequest = Type.Object(
  {
    filter: BulkFilter,
    /** Count only: `matched` and `eligible`, nothing changes. */
    dryRun: Type.Optional(Type.Boolean()),
    /** Tasks created after this time are left alone (default: now); pass the dry run's `asOf`. */
    asOf: Type.Optional(Type.String({ format: 'date-time', maxLength: 64 })),
    /** Where the previous call stopped (its `nextCursor`). */
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  { additionalProperties: false },
);
export type BulkActionRequest = Static<typeof BulkActionRequest>;

export const BulkFailure = Type.Object({
  taskId: Type.String(),
  code: Type.String(),
  message: Type.String(),
});
export type BulkFailure = Static<typeof BulkFailure>;

export const BulkActionResult = Type.Object({
  /** The time bound in force: pass it on with the next call. */
  asOf: Type.String({ format: 'date-time' }),
  /** Dry run: tasks the filter matches (at most maxCount). */
  matched: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Dry run: of those, the ones the action applies to (cancel: not finished; retry: failed or cancelled). */
  eligible: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Tasks this call acted on. */
  done: Type.Integer({ minimum: 0 }),
  /** Tasks that had changed meanwhile (finished, retried or gone) and were left. */
  skipped: Type.Integer({ minimum: 0 }),
  failedCount: Type.Integer({ minimum: 0 }),
  failed: Type.Array(BulkFailure, { maxItems: BULK_LIMITS.maxFailuresListed }),
  /** Null when every matching task has been handled; else call again with it. */
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type BulkActionResult = Static<typeof BulkActionResult>;

/** The params a failed or cancelled task runs with from its next attempt on. */
export const EditAndRetry = Type.Object({ params: TaskParams }, { additionalProperties: false });
export type EditAndRetry = Static<typeof EditAndRetry>;
