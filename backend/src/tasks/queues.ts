import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import { Queue } from 'bullmq';
import { PREFIX, QUEUE_EVENTS_MAX_LEN } from './keys.ts';

/**
 * Every Taskdock Queue is made here: BullMQ writes the events stream length into the queue's meta
 * on connect, so all of ours must agree on it.
 */
export function createQueue(name: string, connection: RedisConnection): Queue {
  return new Queue(name, {
    connection,
    prefix: PREFIX,
    streams: { events: { maxLen: QUEUE_EVENTS_MAX_LEN } },
  });
}
