import type { WorkerInfo } from '@taskdock/shared/contract';
import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import { WORKERS_KEY, workerKey } from './keys.ts';

/** Heartbeats: each live worker keeps a key that expires unless renewed. */
export async function writeHeartbeat(
  redis: RedisConnection,
  info: WorkerInfo,
  ttlMs: number,
): Promise<void> {
  await redis
    .multi()
    .set(workerKey(info.id), JSON.stringify(info), 'PX', ttlMs)
    .zadd(WORKERS_KEY, Date.now(), info.id)
    .exec();
}

export async function removeHeartbeat(redis: RedisConnection, id: string): Promise<void> {
  await redis.multi().del(workerKey(id)).zrem(WORKERS_KEY, id).exec();
}

/** The workers whose heartbeat has not expired; forgets the others. */
export async function listWorkers(redis: RedisConnection): Promise<WorkerInfo[]> {
  // '-1' as text: ioredis 6.0.0 types zrange's stop as a string.
  const ids = await redis.zrange(WORKERS_KEY, 0, '-1');
  if (ids.length === 0) return [];
  const values = await redis.mget(ids.map(workerKey));
  const dead = ids.filter((_, i) => values[i] === null);
  if (dead.length > 0) await redis.zrem(WORKERS_KEY, ...dead);
  return values.flatMap((value) => (value === null ? [] : [JSON.parse(value) as WorkerInfo]));
}
