import type { TaskEvent } from '@taskdock/shared/contract';

/** An OS notification (electron/notifier.ts); `onClick` runs when the user clicks it. */
export interface Notifier {
  notify(note: { title: string; body: string; onClick: () => void }): void;
}

/** Tasks kept watched at most: the oldest is forgotten first. */
export const MAX_WATCHED_TASKS = 200;
const MAX_ERROR_CHARS = 200;

export interface WatchedTasksOptions {
  readonly notifier: Notifier;
  /** Shows the task's detail page in the window (the notification's click). */
  readonly openTask: (taskId: string) => void;
  /** True while the focused window shows this task: the user sees the end already. */
  readonly isShowing?: (taskId: string) => boolean;
  readonly max?: number;
}

/**
 * Tasks the user watched in the window (opened, or submitted: the UI then opens its page).
 * When one completes or fails, one notification; the task is then no longer watched until it
 * is opened again. A cancel is the user's own act and is not announced.
 */
export class WatchedTasks {
  readonly #watched = new Set<string>();
  readonly #options: WatchedTasksOptions;

  constructor(options: WatchedTasksOptions) {
    this.#options = options;
  }

  watch(taskId: string): void {
    this.#watched.delete(taskId);
    this.#watched.add(taskId);
    const max = this.#options.max ?? MAX_WATCHED_TASKS;
    for (const oldest of this.#watched) {
      if (this.#watched.size <= max) break;
      this.#watched.delete(oldest);
    }
  }

  isWatched(taskId: string): boolean {
    return this.#watched.has(taskId);
  }

  handle(event: TaskEvent): void {
    if (event.type === 'removed') this.#watched.delete(event.taskId);
    if (event.type !== 'completed' && event.type !== 'failed') return;
    // A failed attempt that will be retried is not the end.
    if (event.status !== undefined && event.status !== event.type) return;
    if (!this.#watched.delete(event.taskId)) return;
    if (this.#options.isShowing?.(event.taskId)) return;
    const { taskId } = event;
    this.#options.notifier.notify({
      title: event.type === 'completed' ? `Task completed: ${taskId}` : `Task failed: ${taskId}`,
      body:
        event.type === 'completed'
          ? `${event.workflow} finished.`
          : (event.error?.message ?? `${event.workflow} failed.`).slice(0, MAX_ERROR_CHARS),
      onClick: () => this.#options.openTask(taskId),
    });
  }
}
