import type { Task, TaskLogLine } from '@taskdock/shared/contract';
import type { ApiClient } from '../api-client.ts';
import type { Session } from '../cli-context.ts';
import type { TaskEventStream } from '../event-stream.ts';
import { exitCodeOf } from '../exit-codes.ts';
import { progressBar } from '../output.ts';
import { eventText, logText, outcomeText } from '../task-format.ts';
import { watchTask } from '../watch-task.ts';

export type WatchStyle =
  /** The outcome only (a progress bar on a TTY meanwhile). */
  | 'wait'
  /** Every event and log line as it comes, then the outcome. */
  | 'follow'
  /** The log lines only (`logs --follow`). */
  | 'logs';

/**
 * Watches a task to its end as the command asked, and returns the exit code of its outcome.
 * In `jsonl`, `follow` prints `{"event":…}`, `{"log":…}` and last `{"task":…}` lines.
 */
export async function reportWatch(
  session: Session,
  api: ApiClient,
  taskId: string,
  events: TaskEventStream,
  style: WatchStyle,
  /** The stream was open before the task was created (`run`): it holds every event. */
  fromStart = false,
): Promise<number> {
  const { out } = session;
  const { colors } = out;
  let task: Task;
  if (style === 'wait') {
    task = await watchTask(api, taskId, events, {
      fromStart,
      onEvent: (event) => {
        if (event.progress)
          out.bar(`${taskId}  ${progressBar(event.progress.percent, event.progress.step)}`);
      },
    });
    out.bar(undefined);
    out.value(task, () => outcomeText(task, colors));
  } else if (style === 'follow') {
    task = await watchTask(api, taskId, events, {
      fromStart,
      onEvent: (event) => out.record({ event }, () => eventText(event, colors)),
      onLog: (log) => out.record({ log }, () => logText(log, colors)),
    });
    if (out.mode === 'jsonl') out.record({ task }, () => '');
    else out.value(task, () => outcomeText(task, colors));
  } else {
    const lines: TaskLogLine[] = [];
    task = await watchTask(api, taskId, events, {
      fromStart,
      onLog: (log) => {
        lines.push(log);
        out.record(log, () => logText(log, colors));
      },
    });
    // `json` prints one document at the end: the lines, as `logs` without --follow does.
    if (out.mode === 'json') out.value({ lines }, () => '');
    out.note(outcomeText(task, colors));
  }
  return exitCodeOf(task);
}
