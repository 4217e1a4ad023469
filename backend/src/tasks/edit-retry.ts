import type { Task, TaskLogLine } from '@taskdock/shared/contract';
import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import { Job, type Queue } from 'bullmq';
import { ConflictError, taskNotFound } from '../engine/errors.ts';
import type { WorkflowRegistry } from '../workflows/registry.ts';
import { parseTaskId, queueKey } from './keys.ts';
import { PARAMS_EDITS_FIELD, type ParamsEdit } from './task-mapper.ts';
import type { TaskService } from './task-service.ts';
import { validateTask } from './task-validation.ts';

const MAX_EDITS_KEPT = 10;

export interface EditRetryDeps {
  readonly redis: RedisConnection;
  readonly registry: WorkflowRegistry;
  readonly tasks: TaskService;
  readonly queue: (workflow: string) => Queue;
}

/**
 * Retries a failed or cancelled task with new params, checked against its workflow's schema as
 * a create is (InvalidInputError with `/params/…` fields; ConflictError NOT_RETRYABLE in another
 * state). The params become the job's data (BullMQ `updateData`) before the retry, the edit is
 * kept in the job hash (PARAMS_EDITS_FIELD) and a system line in the task's log names the
 * changed params. A retry that fails after all puts the old data back.
 */
export async function retryWithParams(
  deps: EditRetryDeps,
  id: string,
  params: Record<string, unknown>,
): Promise<Task> {
  const task = await deps.tasks.get(id);
  if (!task) throw taskNotFound(id);
  if (task.status !== 'failed' && task.status !== 'cancelled') {
    throw new ConflictError(
      'NOT_RETRYABLE',
      `Only failed or cancelled tasks can be retried; task ${id} is ${task.status}`,
    );
  }
  const checked = validateTask(deps.registry, { workflow: task.workflow, params });
  const ref = parseTaskId(id);
  const job = ref && (await Job.fromId(deps.queue(task.workflow), ref.jobId));
  if (!ref || !job) throw taskNotFound(id);
  const previous = job.data as Record<string, unknown>;
  const changed = changedKeys(previous ?? {}, checked);
  const at = new Date().toISOString();
  await job.updateData(checked);
  try {
    await recordEdit(deps.redis, `${queueKey(ref.queue)}${ref.jobId}`, { at, changed, previous });
    return await deps.tasks.retry(id);
  } catch (err) {
    await job.updateData(previous);
    throw err;
  }
}

async function recordEdit(redis: RedisConnection, jobKey: string, edit: ParamsEdit): Promise<void> {
  const stored = await redis.hget(jobKey, PARAMS_EDITS_FIELD);
  let edits: ParamsEdit[] = [];
  try {
    edits = stored ? (JSON.parse(stored) as ParamsEdit[]) : [];
  } catch {
    // Not ours to read: start again.
  }
  const line: TaskLogLine = {
    ts: edit.at,
    stream: 'system',
    text: describeParamsEdit(edit.changed),
  };
  await redis
    .multi()
    .hset(jobKey, PARAMS_EDITS_FIELD, JSON.stringify([...edits, edit].slice(-MAX_EDITS_KEPT)))
    .rpush(`${jobKey}:logs`, JSON.stringify(line))
    .exec();
}

/** The system log line of an edit-and-retry (every engine writes this one). */
export const describeParamsEdit = (changed: readonly string[]) =>
  changed.length > 0
    ? `Params edited before retrying: ${changed.join(', ')} changed`
    : 'Retried with the same params (edited, nothing changed)';

/** The top-level params whose values differ (names only: values may be secrets). */
export function changedKeys(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
}
