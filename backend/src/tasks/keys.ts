import { isTaskId } from '@taskdock/shared/contract';
import type { RedisConnectionSpec } from '@taskdock/shared/node/redis-connection';

/** Key prefix of one Taskdock on one Redis: `taskdock`, or `{taskdock}` on a Cluster. */
export const KEY_PREFIXES = { standalone: 'taskdock', cluster: '{taskdock}' } as const;
/**
 * BullMQ prefix of every Taskdock queue and of Taskdock's own keys; Bull Board and other BullMQ
 * clients use the same one. Set once per process by `useKeyPrefix` before any client is made.
 */
export let PREFIX: string;

/** Every task, newest first by creation time: member task id, score createdAt (ms). */
export let TASK_INDEX_KEY: string;
/**
 * Every task by job id, for search by id prefix: members `<job id, lower case>\n<task id>`, all
 * scored 0 (ZRANGEBYLEX). Job ids never hold a newline.
 */
export let ID_INDEX_KEY: string;
export const idIndexMember = (ref: TaskRef) =>
  `${ref.jobId.toLowerCase()}\n${formatTaskId(ref.queue, ref.jobId)}`;
/** An index entry younger than this may belong to a task whose job is still being added. */
export const INDEX_PRUNE_AFTER_MS = 60_000;
/** Schedule name → workflow (queue) that holds its BullMQ job scheduler. */
export let SCHEDULES_KEY: string;
/** Paused schedule name → its definition as JSON (a paused schedule has no job scheduler). */
export let PAUSED_SCHEDULES_KEY: string;
export let WORKERS_KEY: string;
export let CANCEL_CHANNEL: string;
/** failedReason of a cancelled job: BullMQ has no "cancelled" state, so the failed set carries it. */
export const CANCELLED_REASON = 'taskdock:cancelled';

/** Taskdock's own event stream across all queues: the SSE feed, resumable by stream id. */
export let EVENTS_KEY: string;
export const EVENTS_MAX_LEN = 100_000;
/** Events BullMQ keeps per queue stream; larger than its default so a paused relay loses none. */
export const QUEUE_EVENTS_MAX_LEN = 200_000;
/** Written by a worker into the queue's stream when a task really starts (slot held, not cancelled). */
export const STARTED_EVENT = 'taskdock:started';
/** Written by a worker into the queue's stream before it hands a started task back uncounted. */
export const RELEASED_EVENT = 'taskdock:released';
export let RELAY_POSITIONS_KEY: string;
export let RELAY_LOCK_KEY: string;
/** Queue names seen by the API or the relay (plain BullMQ producers may add more). */
export let QUEUES_KEY: string;
export let OWNERS_KEY: string;
export let SOURCES_KEY: string;
export let STATS_TOTALS_KEY: string;
export const statsWorkflowKey = (workflow: string) => `${PREFIX}:stats:workflow:${workflow}`;
/** Finished tasks per 10-second bucket, for throughput. */
export const THROUGHPUT_BUCKET_MS = 10_000;
export const throughputKey = (bucket: number) => `${PREFIX}:stats:finished:${bucket}`;

// Indexes: sorted sets of task ids scored by creation time (ms), newest first in lists.
export const workflowIndexKey = (workflow: string) => `${PREFIX}:index:workflow:${workflow}`;
export const ownerIndexKey = (owner: string) => `${PREFIX}:index:owner:${owner}`;
export const sourceIndexKey = (source: string) => `${PREFIX}:index:source:${source}`;
/** Task id → the status whose index holds it. */
export let STATUS_OF_KEY: string;
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
export let WORKER_TOKENS_KEY: string;
/** sha256 of a worker token → its id: the lookup a request's bearer token takes. */
export const workerTokenHashKey = (sha256: string) => `${PREFIX}:remote:token:${sha256}`;
/** Workflow name → its remote declaration (JSON). */
export let REMOTE_WORKFLOWS_KEY: string;
/** Every queue ever declared remote: leases still reach their queued tasks after a DELETE. */
export let REMOTE_QUEUES_KEY: string;
/** Published on every declaration change, so every API host reloads them. */
export let REMOTE_CHANGED_CHANNEL: string;
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

/**
 * Lays Taskdock's keys under `prefix`. On a Cluster it is the hash tag `{taskdock}`: every key,
 * BullMQ's and ours, then lives in one slot, so each Lua script and multi-key command (the relay's
 * XREAD over every queue stream, the index moves beside a job hash) stays on one node. Called by
 * an entry at start (and by a test process); a single server keeps the plain `taskdock`, so data
 * and plain BullMQ producers of earlier versions keep working.
 */
export function useKeyPrefix(prefix: string): void {
  PREFIX = prefix;
  TASK_INDEX_KEY = `${prefix}:index:tasks`;
  ID_INDEX_KEY = `${prefix}:index:ids`;
  SCHEDULES_KEY = `${prefix}:schedules`;
  PAUSED_SCHEDULES_KEY = `${prefix}:schedules:paused`;
  WORKERS_KEY = `${prefix}:workers`;
  CANCEL_CHANNEL = `${prefix}:cancel`;
  EVENTS_KEY = `${prefix}:events`;
  RELAY_POSITIONS_KEY = `${prefix}:relay:positions`;
  RELAY_LOCK_KEY = `${prefix}:relay:lock`;
  QUEUES_KEY = `${prefix}:queues`;
  OWNERS_KEY = `${prefix}:owners`;
  SOURCES_KEY = `${prefix}:sources`;
  STATS_TOTALS_KEY = `${prefix}:stats:totals`;
  STATUS_OF_KEY = `${prefix}:index:status-of`;
  WORKER_TOKENS_KEY = `${prefix}:remote:tokens`;
  REMOTE_WORKFLOWS_KEY = `${prefix}:remote:workflows`;
  REMOTE_QUEUES_KEY = `${prefix}:remote:queues`;
  REMOTE_CHANGED_CHANNEL = `${prefix}:remote:changed`;
}
useKeyPrefix(KEY_PREFIXES.standalone);

/** The prefix for a connection form (`TASKDOCK_REDIS_CLUSTER` → the Cluster's hash tag). */
export const keyPrefixFor = (form: RedisConnectionSpec['form']): string =>
  form === 'cluster' ? KEY_PREFIXES.cluster : KEY_PREFIXES.standalone;
