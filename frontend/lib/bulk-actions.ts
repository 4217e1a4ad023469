import type {
  BulkAction,
  BulkActionResult,
  BulkFailure,
  BulkFilter,
  RemoveFinishedResult,
} from '@taskdock/shared/contract';
import { api } from './api-client';

export interface BulkProgress {
  readonly done: number;
  readonly skipped: number;
  readonly failedCount: number;
  /** The first few failures, for the message. */
  readonly failed: readonly BulkFailure[];
}

export const NO_PROGRESS: BulkProgress = { done: 0, skipped: 0, failedCount: 0, failed: [] };

/** Counts what an action would touch: `matched` by the filter, `eligible` for the action. */
export const countBulk = (action: BulkAction, filter: BulkFilter, asOf?: string) =>
  api.bulkTasks(action, { filter, dryRun: true, ...(asOf ? { asOf } : {}) });

/**
 * Runs a bulk action to its end: the API does a bounded part per call and returns a cursor,
 * so this calls again until there is none, telling `onProgress` the sums after each call.
 * `asOf` (the count's) keeps tasks created after the count out of it.
 */
export async function runBulkToEnd(
  action: BulkAction,
  filter: BulkFilter,
  asOf: string,
  onProgress: (progress: BulkProgress) => void,
): Promise<BulkProgress> {
  let progress = NO_PROGRESS;
  let cursor: string | null = null;
  do {
    const answer: BulkActionResult = await api.bulkTasks(action, {
      filter,
      asOf,
      ...(cursor ? { cursor } : {}),
    });
    progress = {
      done: progress.done + answer.done,
      skipped: progress.skipped + answer.skipped,
      failedCount: progress.failedCount + answer.failedCount,
      failed: [...progress.failed, ...answer.failed].slice(0, 5),
    };
    onProgress(progress);
    cursor = answer.nextCursor;
  } while (cursor);
  return progress;
}

/** Removes a workflow's tasks that finished before a time, call after call; the total removed. */
export async function removeFinishedToEnd(
  workflow: string,
  finishedBefore: string,
  onProgress: (removed: number) => void,
): Promise<number> {
  let removed = 0;
  let answer: RemoveFinishedResult;
  do {
    answer = await api.removeFinished(workflow, { finishedBefore });
    removed += answer.removed;
    onProgress(removed);
  } while (answer.remaining > 0 && answer.removed > 0);
  return removed;
}

const VERBS: Record<BulkAction, [string, string]> = {
  cancel: ['Cancel', 'Cancelled'],
  retry: ['Retry', 'Re-queued'],
  delete: ['Delete', 'Deleted'],
};

/** "Cancel" / "Cancelled" for buttons and messages. */
export const bulkVerb = (action: BulkAction, past = false) => VERBS[action][past ? 1 : 0];
