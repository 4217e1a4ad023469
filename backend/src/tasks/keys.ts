/** BullMQ prefix of every Taskdock queue; Bull Board and other BullMQ clients use the same one. */
export const PREFIX = 'taskdock';

/** Every task, newest first by creation time: member task id, score createdAt (ms). */
export const TASK_INDEX_KEY = `${PREFIX}:index:tasks`;
/** Schedule name → workflow (queue) that holds its BullMQ job scheduler. */
export const SCHEDULES_KEY = `${PREFIX}:schedules`;
export const WORKERS_KEY = `${PREFIX}:workers`;
export const CANCEL_CHANNEL = `${PREFIX}:cancel`;
/** failedReason of a cancelled job: BullMQ has no "cancelled" state, so the failed set carries it. */
export const CANCELLED_REASON = 'taskdock:cancelled';

/** Taskdock's own event stream across all queues: the SSE feed, resumable by stream id. */
export const EVENTS_KEY = `${PREFIX}:events`;
export const EVENTS_MAX_LEN = 100_000;
/** Events BullMQ keeps per queue stream; larger than its default so a paused relay loses none. */
export const QUEUE_EVENTS_MAX_LEN = 200_000;
/** Written by a worker into the queue's stream when a task really starts (slot held, not cancelled). */
export const STARTED_EVENT = 'taskdock:started';
export const RELAY_POSITIONS_KEY = `${PREFIX}:relay:positions`;
export const RELAY_LOCK_KEY = `${PREFIX}:relay:lock`;
/** Queue names seen by the API or the relay (plain BullMQ producers may add more). */
export const QUEUES_KEY = `${PREFIX}:queues`;
export const OWNERS_KEY = `${PREFIX}:owners`;
export const SOURCES_KEY = `${PREFIX}:sources`;
export const STATS_TOTALS_KEY = `${PREFIX}:stats:totals`;
export const statsWorkflowKey = (workflow: string) => `${PREFIX}:stats:workflow:${workflow}`;
/** Finished tasks per 10-second bucket, for throughput. */
export const THROUGHPUT_BUCKET_MS = 10_000;
export const throughputKey = (bucket: number) => `${PREFIX}:stats:finished:${bucket}`;

// Indexes: sorted sets of task ids scored by creation time (ms), newest first in lists.
export const workflowIndexKey = (workflow: string) => `${PREFIX}:index:workflow:${workflow}`;
export const ownerIndexKey = (owner: string) => `${PREFIX}:index:owner:${owner}`;
export const sourceIndexKey = (source: string) => `${PREFIX}:index:source:${source}`;
/** Task id → the status whose index holds it. */
export const STATUS_OF_KEY = `${PREFIX}:index:status-of`;
export const statusIndexKey = (status: string, workflow?: string) =>
  workflow === undefined
    ? `${PREFIX}:index:status:${status}`
    : `${PREFIX}:index:status:${status}:${workflow}`;

export const workerKey = (id: string) => `${PREFIX}:worker:${id}`;
export const cancelKey = (taskId: string) => `${PREFIX}:cancel:${taskId}`;
export const idempotencyKey = (key: string) => `${PREFIX}:idempotency:${key}`;
export const ownerSlotsKey = (owner: string) => `${PREFIX}:owner-slots:${owner}`;
export const queueKey = (queue: string) => `${PREFIX}:${queue}:`;

export interface TaskRef {
  readonly queue: string;
  readonly jobId: string;
}

/**
 * Task ids are `<queue>:<job id>`. BullMQ forbids ':' in queue names, so the first ':' splits
 * them (job ids may hold ':', e.g. the `repeat:…` jobs of job schedulers).
 */
export const formatTaskId = (queue: string, jobId: string) => `${queue}:${jobId}`;

export function parseTaskId(id: string): TaskRef | null {
  const at = id.indexOf(':');
  if (at <= 0 || at === id.length - 1) return null;
  const queue = id.slice(0, at);
  const jobId = id.slice(at + 1);
  if (!/^[A-Za-z0-9_.-]+$/.test(queue)) return null;
  return { queue, jobId };
}
