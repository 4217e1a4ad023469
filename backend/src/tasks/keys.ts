import { isTaskId } from '@taskdock/shared/contract';

/** BullMQ prefix of every Taskdock queue; Bull Board and other BullMQ clients use the same one. */
export const PREFIX = 'taskdock';

/** Every task, newest first by creation time: member task id, score createdAt (ms). */
export const TASK_INDEX_KEY = `${PREFIX}:index:tasks`;
/**
 * Every task by job id, for search by id prefix: members `<job id, lower case>\n<task id>`, all
 * scored 0 (ZRANGEBYLEX). Job ids never hold a newline.
 */
export const ID_INDEX_KEY = `${PREFIX}:index:ids`;
export const idIndexMember = (ref: TaskRef) =>
  `${ref.jobId.toLowerCase()}\n${formatTaskId(ref.queue, ref.jobId)}`;
/** An index entry younger than this may belong to a task whose job is still being added. */
export const INDEX_PRUNE_AFTER_MS = 60_000;
/** Schedule name → workflow (queue) that holds its BullMQ job scheduler. */
export const SCHEDULES_KEY = `${PREFIX}:schedules`;
/** Paused schedule name → its definition as JSON (a paused schedule has no job scheduler). */
export const PAUSED_SCHEDULES_KEY = `${PREFIX}:schedules:paused`;
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
/** Written by a worker into the queue's stream before it hands a started task back uncounted. */
export const RELEASED_EVENT = 'taskdock:released';
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
/** Process groups of running `shell` tasks in one pid space (boot + pid namespace): pgid → record. */
export const processGroupsKey = (pidSpace: string) => `${PREFIX}:process-groups:${pidSpace}`;
export const queueKey = (queue: string) => `${PREFIX}:${queue}:`;
/** BullMQ's hash of a queue's settings: `paused` (1 when paused), `concurrency` (global limit). */
export const queueMetaKey = (queue: string) => `${queueKey(queue)}meta`;

// Remote workers (remote/): worker tokens, remote workflow declarations, leases.
/** Worker token id → its record (name, globs, sha256 of the token). */
export const WORKER_TOKENS_KEY = `${PREFIX}:remote:tokens`;
/** sha256 of a worker token → its id: the lookup a request's bearer token takes. */
export const workerTokenHashKey = (sha256: string) => `${PREFIX}:remote:token:${sha256}`;
/** Workflow name → its remote declaration (JSON). */
export const REMOTE_WORKFLOWS_KEY = `${PREFIX}:remote:workflows`;
/** Every queue ever declared remote: leases still reach their queued tasks after a DELETE. */
export const REMOTE_QUEUES_KEY = `${PREFIX}:remote:queues`;
/** Published on every declaration change, so every API host reloads them. */
export const REMOTE_CHANGED_CHANNEL = `${PREFIX}:remote:changed`;
/** Lease id → { taskId, workerId, tokenId } (the BullMQ lock token is the lease id). */
export const leaseKey = (leaseId: string) => `${PREFIX}:remote:lease:${leaseId}`;
/** A remote worker's leases held now: lease id → task id. */
export const remoteWorkerLeasesKey = (workerId: string) =>
  `${PREFIX}:remote:worker-leases:${workerId}`;
/** Task id → lease id of the task fetched by the compatibility route. */
export const commLeaseKey = (taskId: string) => `${PREFIX}:remote:comm:${taskId}`;

export interface TaskRef {
  readonly queue: string;
  readonly jobId: string;
}

/**
 * Task ids are `<queue>:<job id>`. BullMQ forbids ':' in queue names, so the first ':' splits
 * them (job ids may hold ':', e.g. the `repeat:…` jobs of job schedulers).
 */
export const formatTaskId = (queue: string, jobId: string) => `${queue}:${jobId}`;

/**
 * The queue and job of a task id, or null for an id of another shape (the contract's rule, the
 * same the API's TaskIdParams schema checks): then `queueKey(queue) + jobId` can only be a job
 * hash, never one of Taskdock's keys or BullMQ's per-queue keys.
 */
export function parseTaskId(id: string): TaskRef | null {
  if (!isTaskId(id)) return null;
  const at = id.indexOf(':');
  return { queue: id.slice(0, at), jobId: id.slice(at + 1) };
}
