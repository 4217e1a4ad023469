import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import { ownerSlotsKey } from './keys.ts';
import { defineScripts } from './scripts.ts';

/**
 * Per-owner concurrency (TASKDOCK_MAX_PER_OWNER) across every worker, local or remote: an owner's
 * running tasks hold slots in one sorted set. Each slot is a lease its holder renews, so the slot
 * of a worker that dies (or a remote lease that expires) frees itself.
 */
export class OwnerSlots {
  readonly #redis: RedisConnection;
  readonly #max: number;

  constructor(redis: RedisConnection, max: number) {
    this.#redis = defineScripts(redis);
    this.#max = max;
  }

  /** Takes or renews the task's slot for `leaseMs`; false when the owner is at its limit. */
  async hold(owner: string, taskId: string, leaseMs: number): Promise<boolean> {
    return (
      (await this.#redis.taskdockAcquireSlot(ownerSlotsKey(owner), taskId, this.#max, leaseMs)) ===
      1
    );
  }

  async free(owner: string, taskId: string): Promise<void> {
    await this.#redis.zrem(ownerSlotsKey(owner), taskId);
  }

  /** When a task whose owner is at its limit is looked at again (jittered: holders race less). */
  static retryAt(now = Date.now()): number {
    return now + 100 + Math.floor(Math.random() * 150);
  }
}
