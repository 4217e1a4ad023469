import { type RunningBadge, RunningCount } from './running-count.ts';
import { followTaskEvents } from './task-feed.ts';
import { type Notifier, WatchedTasks } from './watched-tasks.ts';

export interface LiveTasksOptions {
  readonly apiUrl: string;
  readonly token: string;
  readonly notifier: Notifier;
  readonly badge: RunningBadge;
  readonly openTask: (taskId: string) => void;
  readonly isShowing?: (taskId: string) => boolean;
  readonly reconnectDelayMs?: number;
  readonly settleMs?: number;
}

export interface LiveTasks {
  /** A task the user opened (or submitted) in the window. */
  watch(taskId: string): void;
  stop(): void;
}

/**
 * What the desktop shell follows of the local backend, over one `GET /api/events` stream: the
 * watched tasks' ends (notifications) and the running-task count (tray, dock).
 */
export function followLiveTasks(options: LiveTasksOptions): LiveTasks {
  const watched = new WatchedTasks(options);
  const running = new RunningCount({ ...options, badge: options.badge });
  running.start();
  const feed = followTaskEvents({
    apiUrl: options.apiUrl,
    token: options.token,
    reconnectDelayMs: options.reconnectDelayMs,
    // Events missed while the stream was down may have moved the count.
    onOpen: () => running.soon(),
    onEvent: (event) => {
      watched.handle(event);
      running.handle(event);
    },
  });
  return {
    watch: (taskId) => watched.watch(taskId),
    stop: () => {
      feed.stop();
      running.stop();
    },
  };
}
