import type { TaskEvent } from '@taskdock/shared/contract';
import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import {
  EVENTS_MAX_LEN,
  formatTaskId,
  INDEX_PRUNE_AFTER_MS,
  idIndexMember,
  PREFIX,
  parseTaskId,
  queueKey,
  workflowIndexKey,
} from './keys.ts';
import { defineScripts } from './scripts.ts';
import { hashToRecord, toTaskSummary } from './task-mapper.ts';

/** What one reconcile pass of a queue found wrong and put right. */
export interface RepairReport {
  readonly queue: string;
  /** Jobs BullMQ holds for the queue. */
  readonly jobs: number;
  /** Tasks that were missing from at least one index. */
  readonly added: number;
  /** Tasks whose indexed status was not BullMQ's (an event was sent for each). */
  readonly corrected: number;
  /** Index entries of jobs that are gone. */
  readonly removed: number;
}

/** BullMQ's state lists and sorted sets of a queue: together they hold every job it has. */
const LISTS = ['wait', 'paused', 'active'] as const;
const SORTED_SETS = ['prioritized', 'delayed', 'completed', 'failed', 'waiting-children'] as const;
/** Jobs read and repaired per script call: each call is short, Redis serves others between. */
const CHUNK = 500;

async function jobIdsOf(redis: RedisConnection, queue: string): Promise<Set<string>> {
  const ids = new Set<string>();
  const base = queueKey(queue);
  for (const name of [...LISTS, ...SORTED_SETS]) {
    for (let start = 0; ; start += CHUNK * 4) {
      const stop = start + CHUNK * 4 - 1;
      const page = (LISTS as readonly string[]).includes(name)
        ? await redis.lrange(`${base}${name}`, start, stop)
        : await redis.zrange(`${base}${name}`, String(start), String(stop));
      for (const id of page) ids.add(id);
      if (page.length < CHUNK * 4) break;
    }
  }
  return ids;
}

/**
 * Rebuilds a queue's part of Taskdock's indexes from BullMQ's own state: every job is put back in
 * the task, id, workflow, owner, source and status indexes (with the status BullMQ has now), and
 * entries of jobs that no longer exist leave them. Idempotent; safe beside a running relay (a
 * later event moves a task on as usual). Totals since install are not rebuilt: what a trimmed
 * stream held is gone, and the caller says so.
 */
export async function reconcileQueue(redis: RedisConnection, queue: string): Promise<RepairReport> {
  defineScripts(redis);
  const ids = await jobIdsOf(redis, queue);
  let added = 0;
  let corrected = 0;
  let removed = 0;
  const apply = async (entries: object[]) => {
    if (entries.length === 0) return;
    const [a, c, r] = await redis.taskdockRepairIndexes(
      PREFIX,
      EVENTS_MAX_LEN,
      JSON.stringify(entries),
    );
    added += a;
    corrected += c;
    removed += r;
  };
  const all = [...ids];
  for (let i = 0; i < all.length; i += CHUNK) {
    const chunk = all.slice(i, i + CHUNK);
    const rows = await redis.taskdockGetJobs(queueKey(queue), '0', ...chunk);
    const now = Date.now();
    const entries = rows.flatMap(([state, flat], k) => {
      const jobId = chunk[k] as string;
      // A plain producer's job with an id no task id can name is not Taskdock's (as in the relay).
      if (state === 'missing' || !parseTaskId(formatTaskId(queue, jobId))) return [];
      const task = toTaskSummary(queue, jobId, state, hashToRecord(flat), now);
      const event: TaskEvent = {
        type: task.status,
        taskId: task.id,
        workflow: queue,
        ts: new Date(now).toISOString(),
        status: task.status,
      };
      return [
        {
          id: task.id,
          wf: queue,
          st: task.status,
          score: Date.parse(task.createdAt),
          owner: task.owner,
          source: task.source,
          lex: idIndexMember({ queue, jobId }),
          data: JSON.stringify(event),
        },
      ];
    });
    await apply(entries);
  }
  // Entries whose job is gone; young ones may belong to a task being added right now.
  const prefix = formatTaskId(queue, '');
  for (let start = 0; ; start += CHUNK) {
    const page = await redis.zrange(
      workflowIndexKey(queue),
      String(start),
      String(start + CHUNK - 1),
      'WITHSCORES',
    );
    const stale = [];
    for (let k = 0; k + 1 < page.length; k += 2) {
      const taskId = page[k] as string;
      const jobId = taskId.slice(prefix.length);
      if (!ids.has(jobId) && Date.now() - Number(page[k + 1]) > INDEX_PRUNE_AFTER_MS) {
        stale.push({ id: taskId, wf: queue, lex: idIndexMember({ queue, jobId }) });
      }
    }
    const before = removed;
    await apply(stale);
    if (page.length < CHUNK * 2) break;
    start -= removed - before;
  }
  return { queue, jobs: ids.size, added, corrected, removed };
}
