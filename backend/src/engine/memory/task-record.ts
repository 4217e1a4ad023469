import type {
  Task,
  TaskAttempt,
  TaskError,
  TaskLogLine,
  TaskProgress,
  TaskStatus,
  TaskSummary,
} from '@taskdock/shared/contract';

/**
 * A task as the memory engine holds it (times in epoch ms); the contract's Task is made from it.
 * Every field is always present (undefined when unset), so records keep one compact shape.
 */
export interface TaskRecord {
  readonly id: string;
  readonly workflow: string;
  /** Creation order: lists are newest first by it, cursors point at it. */
  readonly seq: number;
  status: TaskStatus;
  params: Record<string, unknown>;
  progress: TaskProgress;
  result: unknown;
  error: TaskError | undefined;
  /** Attempts counted so far (the current one included while it runs). */
  attempts: number;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly priority: number;
  readonly owner: string | undefined;
  readonly source: string | undefined;
  readonly schedule: string | undefined;
  readonly idempotencyKey: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly createdAt: number;
  readonly scheduledFor: number | undefined;
  startedAt: number | undefined;
  firstStartedAt: number | undefined;
  finishedAt: number | undefined;
  updatedAt: number;
  readonly history: TaskAttempt[];
  /** The params were edited by a retry: each attempt records the params it ran with. */
  edited: boolean;
  /** The newest log lines (a few more than kept, trimmed in steps). */
  logs: TaskLogLine[];
  /** Bumped on every enqueue: entries of the ready and due heaps with an older one are stale. */
  queueToken: number;
  /** Set while an attempt runs: aborting it stops the attempt. */
  run: { readonly abort: AbortController; readonly done: Promise<void> } | undefined;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function toTaskSummary(record: TaskRecord): TaskSummary {
  const task: TaskSummary = {
    id: record.id,
    workflow: record.workflow,
    status: record.status,
    params: record.params,
    progress: record.progress,
    attempts: record.attempts,
    maxAttempts: record.maxAttempts,
    priority: record.priority,
    createdAt: iso(record.createdAt),
    updatedAt: iso(record.updatedAt),
  };
  if (record.error !== undefined) task.error = record.error;
  if (record.owner !== undefined) task.owner = record.owner;
  if (record.source !== undefined) task.source = record.source;
  if (record.schedule !== undefined) task.schedule = record.schedule;
  if (record.idempotencyKey !== undefined) task.idempotencyKey = record.idempotencyKey;
  if (record.timeoutMs !== undefined) task.timeoutMs = record.timeoutMs;
  if (record.scheduledFor !== undefined) task.scheduledFor = iso(record.scheduledFor);
  if (record.startedAt !== undefined) task.startedAt = iso(record.startedAt);
  if (record.firstStartedAt !== undefined) task.firstStartedAt = iso(record.firstStartedAt);
  if (record.finishedAt !== undefined) task.finishedAt = iso(record.finishedAt);
  return structuredClone(task);
}

export function toTask(record: TaskRecord): Task {
  const task: Task = toTaskSummary(record);
  if (record.status === 'completed') task.result = structuredClone(record.result ?? null);
  task.attemptHistory = structuredClone(record.history);
  return task;
}
