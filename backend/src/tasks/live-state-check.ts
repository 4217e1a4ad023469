import { compareEventIds } from '@taskdock/shared/contract';
import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import {
  ID_INDEX_KEY,
  queueKey,
  STATUS_OF_KEY,
  statusIndexKey,
  TASK_INDEX_KEY,
  workflowIndexKey,
} from './keys.ts';

const STATUSES = ['queued', 'scheduled', 'running', 'completed', 'failed', 'cancelled'] as const;

/**
 * Entries of a queue's events stream that were trimmed before the relay read them: BullMQ trims
 * its streams oldest first (and a plain BullMQ client may set a shorter length on connect), so a
 * relay that fell behind, or a stream deleted and made again, loses events. The position the
 * relay read up to is an entry that existed; once the oldest entry left is newer, or the stream
 * is empty though entries came after it, what lay between is gone. Null when nothing is missing.
 */
export async function streamGap(
  redis: RedisConnection,
  queue: string,
  position: string,
): Promise<string | null> {
  if (position === '0-0') return null;
  let raw: unknown[];
  try {
    raw = (await redis.xinfo('STREAM', `${queueKey(queue)}events`)) as unknown[];
  } catch {
    return `the events stream is gone (the relay had read up to ${position})`;
  }
  const info = new Map<string, unknown>();
  for (let i = 0; i + 1 < raw.length; i += 2) info.set(String(raw[i]), raw[i + 1]);
  const last = String(info.get('last-generated-id') ?? '0-0');
  const first = (info.get('first-entry') as [string, unknown] | null | undefined)?.[0];
  if (compareEventIds(position, last) > 0) {
    return `the events stream was made again (the relay had read up to ${position}, it ends at ${last})`;
  }
  if (
    first === undefined ? compareEventIds(last, position) > 0 : compareEventIds(first, position) > 0
  ) {
    return `events after ${position} were trimmed before the relay read them (oldest left: ${first ?? 'none'})`;
  }
  return null;
}

/** Jobs BullMQ holds per queue, and the entries Taskdock's indexes hold for them. */
export interface IndexCounts {
  readonly jobs: Record<string, number>;
  /** Per queue: [workflow index, sum of the queue's status indexes]. */
  readonly perQueue: Record<string, readonly [number, number]>;
  /** Across queues: [task index, id index, status-of, sum of the status indexes]. */
  readonly overall: readonly [number, number, number, number];
}

/** One pipeline of cardinalities: cheap enough to run every few seconds. */
export async function countIndexes(
  redis: RedisConnection,
  queues: readonly string[],
): Promise<IndexCounts> {
  const read = redis.pipeline();
  for (const queue of queues) {
    const base = queueKey(queue);
    read.llen(`${base}wait`).llen(`${base}paused`).llen(`${base}active`);
    for (const set of ['prioritized', 'delayed', 'completed', 'failed', 'waiting-children']) {
      read.zcard(`${base}${set}`);
    }
    read.zcard(workflowIndexKey(queue));
    for (const status of STATUSES) read.zcard(statusIndexKey(status, queue));
  }
  read.zcard(TASK_INDEX_KEY).zcard(ID_INDEX_KEY).hlen(STATUS_OF_KEY);
  for (const status of STATUSES) read.zcard(statusIndexKey(status));
  const values = ((await read.exec()) ?? []).map(([err, n]) => (err ? 0 : Number(n)));
  const sum = (from: number, n: number) => values.slice(from, from + n).reduce((a, b) => a + b, 0);
  const jobs: Record<string, number> = {};
  const perQueue: Record<string, readonly [number, number]> = {};
  const width = 8 + 1 + STATUSES.length;
  queues.forEach((queue, i) => {
    const at = i * width;
    jobs[queue] = sum(at, 8);
    perQueue[queue] = [values[at + 8] ?? 0, sum(at + 9, STATUSES.length)];
  });
  const at = queues.length * width;
  const overall = [
    values[at] ?? 0,
    values[at + 1] ?? 0,
    values[at + 2] ?? 0,
    sum(at + 3, STATUSES.length),
  ] as const;
  return { jobs, perQueue, overall };
}

/**
 * The queues whose index counts disagree with BullMQ's, with why. Counts move while tasks are
 * created and relayed, so only a disagreement seen twice in a row, with the same numbers, counts:
 * the caller passes the previous counts.
 */
export function lostIndexes(
  now: IndexCounts,
  previous: IndexCounts | undefined,
): Map<string, string> {
  const lost = new Map<string, string>();
  if (!previous) return lost;
  const same = (a: readonly number[] | undefined, b: readonly number[] | undefined) =>
    a !== undefined && b !== undefined && a.every((n, i) => n === b[i]);
  const total = Object.values(now.jobs).reduce((a, b) => a + b, 0);
  for (const [queue, jobs] of Object.entries(now.jobs)) {
    const counts = now.perQueue[queue] as readonly [number, number];
    if (counts.every((n) => n === jobs)) continue;
    if (!same([jobs, ...counts], [previous.jobs[queue] ?? -1, ...(previous.perQueue[queue] ?? [])]))
      continue;
    lost.set(
      queue,
      `BullMQ holds ${jobs} jobs, the workflow and status indexes ${counts.join(' and ')}`,
    );
  }
  const overallSame =
    same(now.overall, previous.overall) &&
    total === Object.values(previous.jobs).reduce((a, b) => a + b, 0);
  if (overallSame && !now.overall.every((n) => n === total)) {
    const why = `BullMQ holds ${total} jobs, the task, id, status-of and status indexes ${now.overall.join(', ')}`;
    for (const queue of Object.keys(now.jobs)) if (!lost.has(queue)) lost.set(queue, why);
  }
  return lost;
}
