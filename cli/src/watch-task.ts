import {
  FINAL_STATUSES,
  type Task,
  type TaskEvent,
  type TaskLogLine,
} from '@taskdock/shared/contract';
import type { ApiClient } from './api-client.ts';
import type { TaskEventStream } from './event-stream.ts';

/** How often a followed task's log is fetched while it runs (the API has no log events). */
const LOG_POLL_MS = 500;
const LOG_LIMIT = 5000;
/** Longest a fetched line waits for the events of its time to be printed first. */
const HOLD_MS = 1000;

export interface WatchHandlers {
  /** Each event of the task, in the order the API sent them. */
  readonly onEvent?: (event: TaskEvent) => void;
  /** Each new log line; given: the log is followed. */
  readonly onLog?: (line: TaskLogLine) => void;
}

const isFinal = (status: Task['status'] | undefined) =>
  status !== undefined && FINAL_STATUSES.includes(status);

/**
 * Waits for the task to finish, reporting its events (and log lines) as they come; returns the
 * finished task. `fromStart`: `events` opened before the task was created, so it holds every
 * event; otherwise the task is looked at once the stream is open (it may have ended before).
 */
export async function watchTask(
  api: ApiClient,
  taskId: string,
  events: TaskEventStream,
  handlers: WatchHandlers & { readonly fromStart: boolean },
): Promise<Task> {
  const logs = handlers.onLog ? followLogs(api, taskId, handlers.onLog) : undefined;
  try {
    await events.opened;
    let task = handlers.fromStart ? undefined : await api.getTask(taskId);
    if (task === undefined || !isFinal(task.status)) {
      for await (const event of events) {
        if (event.taskId !== taskId) continue;
        await logs?.before(event.ts);
        handlers.onEvent?.(event);
        if (event.type === 'removed') break;
        if (isFinal(event.status)) break;
      }
      task = await api.getTask(taskId);
    }
    await logs?.finish();
    return task;
  } finally {
    logs?.stop();
    events.close();
  }
}

/**
 * Polls the task's log and hands on the lines not seen yet, oldest first, interleaved with the
 * events by time: a line waits until an event as late as it was handled, or for HOLD_MS.
 */
function followLogs(api: ApiClient, taskId: string, onLine: (line: TaskLogLine) => void) {
  let last: TaskLogLine | undefined;
  let seen = 0;
  const pending: { line: TaskLogLine; fetchedAt: number }[] = [];
  let eventsUpTo = '';
  let running: Promise<void> = Promise.resolve();
  const fetchNew = async () => {
    const { lines } = await api.taskLogs(taskId, LOG_LIMIT);
    // The log keeps the newest lines only: find the last one taken, take what follows it.
    let from = seen <= lines.length && sameLine(lines[seen - 1], last) ? seen : 0;
    if (from === 0 && last !== undefined) {
      from = lines.findLastIndex((line) => sameLine(line, last)) + 1;
    }
    const now = Date.now();
    for (const line of lines.slice(from)) pending.push({ line, fetchedAt: now });
    seen = lines.length;
    last = lines.at(-1) ?? last;
  };
  const release = (all: boolean) => {
    const now = Date.now();
    while (pending.length > 0) {
      const next = pending[0] as (typeof pending)[number];
      if (!all && next.line.ts > eventsUpTo && now - next.fetchedAt < HOLD_MS) break;
      pending.shift();
      onLine(next.line);
    }
  };
  const tick = (then: () => void) => {
    running = running
      .then(fetchNew)
      .catch(() => {})
      .then(then);
    return running;
  };
  tick(() => release(false));
  const timer = setInterval(() => tick(() => release(false)), LOG_POLL_MS);
  return {
    stop: () => clearInterval(timer),
    /** Prints the lines written up to an event's time, before that event is handed on. */
    before: (eventTs: string) =>
      tick(() => {
        if (eventTs > eventsUpTo) eventsUpTo = eventTs;
        release(false);
      }),
    /** One last read after the task finished: every line is printed. */
    finish() {
      clearInterval(timer);
      return tick(() => release(true));
    },
  };
}

const sameLine = (a: TaskLogLine | undefined, b: TaskLogLine | undefined) =>
  a !== undefined &&
  b !== undefined &&
  a.ts === b.ts &&
  a.text === b.text &&
  a.stream === b.stream &&
  a.attempt === b.attempt;
