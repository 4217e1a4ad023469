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
