import {
  FINAL_STATUSES,
  type TaskEvent,
  type TaskStatus,
  type TaskSummary,
} from '@taskdock/shared/contract';

export const isFinal = (status: TaskStatus) => FINAL_STATUSES.includes(status);
export const canCancel = (task: Pick<TaskSummary, 'status'>) => !isFinal(task.status);
export const canRetry = (task: Pick<TaskSummary, 'status'>) =>
  task.status === 'failed' || task.status === 'cancelled';

/** The task after one live event (what the event says; the rest comes with the next fetch). */
export function applyTaskEvent<T extends TaskSummary>(task: T, event: TaskEvent): T {
  if (event.taskId !== task.id || event.type === 'removed') return task;
  const next: T = { ...task, updatedAt: event.ts };
  if (event.status) next.status = event.status;
  if (event.progress) next.progress = event.progress;
  if (event.error) next.error = event.error;
  if (event.type === 'running' && !task.startedAt) next.startedAt = event.ts;
  if (event.status && isFinal(event.status) && !task.finishedAt) next.finishedAt = event.ts;
  if (event.type === 'completed') next.progress = { ...next.progress, percent: 100 };
  return next;
}

export function parseTaskEvent(data: string): TaskEvent | null {
  try {
    const event = JSON.parse(data) as TaskEvent;
    return typeof event?.taskId === 'string' && typeof event.type === 'string' ? event : null;
  } catch {
    return null;
  }
}

/** Wall time a task ran (or has been running). */
export function taskDuration(task: TaskSummary, now = Date.now()): number | undefined {
  if (!task.startedAt) return undefined;
  const end = task.finishedAt ? Date.parse(task.finishedAt) : now;
  return end - Date.parse(task.startedAt);
}
