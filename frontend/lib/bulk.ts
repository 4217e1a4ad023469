import type { Task } from '@taskdock/shared/contract';
import { ApiError } from './api-client';

export interface BulkResult {
  readonly done: Task[];
  readonly skipped: number;
  readonly failed: { id: string; message: string }[];
}

/** Runs `action` over the ids, a few at a time; a 409 (already final, not retryable) is a skip. */
export async function runBulk(
  ids: readonly string[],
  action: (id: string) => Promise<Task>,
  parallel = 6,
): Promise<BulkResult> {
  const done: Task[] = [];
  const failed: { id: string; message: string }[] = [];
  let skipped = 0;
  let next = 0;
  const lane = async () => {
    while (next < ids.length) {
      const id = ids[next++] as string;
      try {
        done.push(await action(id));
      } catch (err) {
        if (err instanceof ApiError && (err.status === 409 || err.status === 404)) skipped += 1;
        else failed.push({ id, message: (err as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, ids.length) }, lane));
  return { done, skipped, failed };
}
