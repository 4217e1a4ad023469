import {
  BULK_LIMITS,
  type BulkAction,
  type BulkActionRequest,
  type BulkActionResult,
  type BulkFailure,
  FINAL_STATUSES,
  type TaskSummary,
} from '@taskdock/shared/contract';
import { ConflictError, EngineError, NotFoundError } from './errors.ts';
import type { TaskEngine } from './task-engine.ts';

/** What a bulk action needs of an engine: any engine runs bulk actions with this. */
export type BulkTarget = Pick<TaskEngine, 'list' | 'cancel' | 'retry' | 'remove'>;

/** Tasks acted on together (in parallel), and the page read for them. */
const ACT_PAGE = 25;
const COUNT_PAGE = 500;

/** Whether the action applies to a task in its present state. */
export function bulkApplies(action: BulkAction, task: TaskSummary): boolean {
  if (action === 'cancel') return !FINAL_STATUSES.includes(task.status);
  if (action === 'retry') return task.status === 'failed' || task.status === 'cancelled';
  return true;
}

/**
 * Cancels, retries or deletes the tasks `GET /api/tasks` lists for the filter, newest first,
 * created no later than `asOf`; bounded by BULK_LIMITS (it reads at most `maxPerCall` tasks and
 * starts no new page after `callBudgetMs`), going on from `cursor`. A dry run counts instead (`matched`,
 * `eligible`), at most `maxCount` tasks per call. Tasks that changed meanwhile (a conflict, or
 * gone) are `skipped`; other errors are `failed`.
 */
export async function runBulkAction(
  engine: BulkTarget,
  action: BulkAction,
  request: BulkActionRequest,
  /** Told of each error that is not an EngineError (the task is listed as failed, INTERNAL). */
  onUnexpected: (err: unknown, taskId: string) => void = () => {},
): Promise<BulkActionResult> {
  const now = Date.now();
  const asOf = request.asOf === undefined ? now : Math.min(Date.parse(request.asOf), now);
  const inTime = (task: TaskSummary) => Date.parse(task.createdAt) <= asOf;
  const outOfBudget = () => Date.now() - now >= BULK_LIMITS.callBudgetMs;
  const result: BulkActionResult = {
    asOf: new Date(asOf).toISOString(),
    done: 0,
    skipped: 0,
    failedCount: 0,
    failed: [],
    nextCursor: request.cursor ?? null,
  };

  if (request.dryRun) {
    let matched = 0;
    let eligible = 0;
    do {
      const page = await engine.list({
        ...request.filter,
        limit: COUNT_PAGE,
        ...(result.nextCursor ? { cursor: result.nextCursor } : {}),
      });
      for (const task of page.items.filter(inTime)) {
        matched++;
        if (bulkApplies(action, task)) eligible++;
      }
      result.nextCursor = page.nextCursor;
    } while (result.nextCursor && matched < BULK_LIMITS.maxCount && !outOfBudget());
    return { ...result, matched, eligible };
  }

  const act = actionOf(engine, action);
  let handled = 0;
  do {
    const page = await engine.list({
      ...request.filter,
      limit: Math.min(ACT_PAGE, BULK_LIMITS.maxPerCall - handled),
      ...(result.nextCursor ? { cursor: result.nextCursor } : {}),
    });
    const targets = page.items.filter((t) => inTime(t) && bulkApplies(action, t));
    const outcomes = await Promise.all(
      targets.map((t) => outcomeOf(t.id, act(t.id), onUnexpected)),
    );
    for (const outcome of outcomes) {
      if (outcome === 'done') result.done++;
      else if (outcome === 'skipped') result.skipped++;
      else {
        result.failedCount++;
        if (result.failed.length < BULK_LIMITS.maxFailuresListed) result.failed.push(outcome);
      }
    }
    handled += page.items.length;
    result.nextCursor = page.nextCursor;
  } while (result.nextCursor && handled < BULK_LIMITS.maxPerCall && !outOfBudget());
  return result;
}

function actionOf(engine: BulkTarget, action: BulkAction): (id: string) => Promise<unknown> {
  if (action === 'cancel') return (id) => engine.cancel(id);
  if (action === 'retry') return (id) => engine.retry(id);
  return (id) => engine.remove(id);
}

async function outcomeOf(
  taskId: string,
  work: Promise<unknown>,
  onUnexpected: (err: unknown, taskId: string) => void,
): Promise<'done' | 'skipped' | BulkFailure> {
  try {
    await work;
    return 'done';
  } catch (err) {
    // Finished, retried or removed since it was listed: nothing left to do for it.
    if (err instanceof NotFoundError) return 'skipped';
    if (err instanceof ConflictError && err.code !== 'TASK_LOCKED') return 'skipped';
    if (err instanceof EngineError) return { taskId, code: err.code, message: err.message };
    onUnexpected(err, taskId);
    return { taskId, code: 'INTERNAL', message: 'Internal error; see the backend log' };
  }
}
