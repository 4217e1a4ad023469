import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import { Cluster } from 'ioredis';
import { ReplicationTimeoutError } from '../engine/errors.ts';

/** Runs a write, then holds its answer until that write is on `minReplicas` replicas. */
export type ReplicatedWrite = <T>(write: () => Promise<T>) => Promise<T>;

/**
 * TASKDOCK_REDIS_MIN_REPLICAS: after a create, `WAIT minReplicas timeoutMs` on the same
 * connection that wrote it (BullMQ's Queue shares the engine's client), so a 201 means the task
 * is on that many replicas too. WAIT counts only the writes of its own connection: when the
 * connection closed between the write and the answer (a failover), the count says nothing of
 * the write, and the create fails the same way as a timeout.
 */
export function replicatedWrites(
  redis: RedisConnection,
  minReplicas: number,
  timeoutMs: number,
): ReplicatedWrite {
  if (minReplicas === 0) return (write) => write();
  if (redis instanceof Cluster) {
    throw new Error('TASKDOCK_REDIS_MIN_REPLICAS is not supported on a Redis Cluster');
  }
  let closes = 0;
  redis.on('close', () => {
    closes++;
  });
  return async (write) => {
    const before = closes;
    const result = await write();
    // A WAIT that fails (the connection gave up) confirms nothing either.
    const acked = await redis
      .call('WAIT', String(minReplicas), String(timeoutMs))
      .then(Number, () => undefined);
    if (acked === undefined || acked < minReplicas || closes !== before) {
      const seen =
        acked === undefined || closes !== before
          ? 'the Redis connection was lost before the replicas confirmed it'
          : `${acked} of ${minReplicas} replicas confirmed it within ${timeoutMs} ms`;
      throw new ReplicationTimeoutError(
        `The task may have been created, but ${seen} (TASKDOCK_REDIS_MIN_REPLICAS=${minReplicas}): ` +
          'a Redis failover could lose it. Look it up, or send the create again with the same ' +
          'idempotencyKey (it then answers the existing task).',
      );
    }
    return result;
  };
}
