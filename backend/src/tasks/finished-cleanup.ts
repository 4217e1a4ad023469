import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import type { Queue } from 'bullmq';
import { QUEUE_EVENTS_MAX_LEN, queueKey } from './keys.ts';

/** BullMQ's sets of finished jobs: `failed` holds the cancelled ones too (the cancel marker). */
export const FINISHED_STATES = ['completed', 'failed'] as const;

/**
 * Removes up to `limit` jobs of `state` that finished at least `graceMs` ago; returns how many.
 * BullMQ's clean emits no per-job events, so this says "removed" for each: the event relay
 * drops them from the indexes and counts. (Retention and "remove finished older than" share it.)
 */
export async function cleanFinished(
  redis: RedisConnection,
  queue: Queue,
  state: (typeof FINISHED_STATES)[number],
  graceMs: number,
  limit: number,
): Promise<number> {
  const removed = await queue.clean(graceMs, limit, state);
  if (removed.length > 0) {
    const events = redis.pipeline();
    for (const jobId of removed) {
      events.xadd(
        `${queueKey(queue.name)}events`,
        'MAXLEN',
        '~',
        QUEUE_EVENTS_MAX_LEN,
        '*',
        'event',
        'removed',
        'jobId',
        jobId,
        'prev',
        state,
      );
    }
    await events.exec();
  }
  return removed.length;
}
