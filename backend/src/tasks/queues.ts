import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { PREFIX, QUEUE_EVENTS_MAX_LEN } from './keys.ts';

/**
 * Every Taskdock Queue is made here: BullMQ writes the events stream length into the queue's meta
 * on connect, so all of ours must agree on it.
 */
export function createQueue(name: string, connection: Redis): Queue {
  return new Queue(name, {
    connection,
    prefix: PREFIX,
    streams: { events: { maxLen: QUEUE_EVENTS_MAX_LEN } },
  });
}
