import type { Task, TaskEvent, TaskLogLine, TaskSummary } from '@taskdock/shared/contract';
import { type Colors, colorStatus, fields, table } from './output.ts';

const json = (value: unknown) => JSON.stringify(value);

function duration(from: string | undefined, to: string | undefined): string | undefined {
  if (from === undefined || to === undefined) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

const progressText = (p: Task['progress']) =>
  `${Math.round(p.percent)}%${p.step ? ` ${p.step}` : ''}`;

const errorText = (error: NonNullable<Task['error']>) =>
  `${error.message}${error.code ? ` (${error.code})` : ''}`;

/** `get`: every field worth a look, aligned. */
export function describeTask(task: Task, colors: Colors): string {
  return fields([
    ['id', task.id],
    ['workflow', task.workflow],
    ['status', colorStatus(colors, task.status)],
    ['progress', progressText(task.progress)],
    ['attempts', `${task.attempts}/${task.maxAttempts}`],
    ['priority', task.priority === 0 ? undefined : String(task.priority)],
    ['owner', task.owner],
    ['source', task.source],
    ['schedule', task.schedule],
    ['created', task.createdAt],
    ['scheduled', task.scheduledFor],
    ['started', task.startedAt],
    ['finished', task.finishedAt],
    ['duration', duration(task.startedAt, task.finishedAt)],
    ['params', json(task.params)],
    ['result', task.result === undefined ? undefined : json(task.result)],
    ['error', task.error ? colors.red(errorText(task.error)) : undefined],
  ]);
}

/** The end of `run --wait`/`--follow`: the outcome on one line, then the result or error. */
export function outcomeText(task: Task, colors: Colors): string {
  const took = duration(task.startedAt, task.finishedAt);
  const head = `${task.id}  ${colorStatus(colors, task.status)}${took ? `  in ${took}` : ''}`;
  if (task.error) return `${head}\n${colors.red(errorText(task.error))}`;
  if (task.result !== undefined) return `${head}\n${json(task.result)}`;
  return head;
}

/** `list`: one aligned row per task. */
export function taskTable(tasks: readonly TaskSummary[], colors: Colors): string {
  if (tasks.length === 0) return colors.dim('no tasks');
  return table(
    ['ID', 'STATUS', 'PROGRESS', 'ATTEMPTS', 'OWNER', 'CREATED'],
    tasks.map((t) => [
      t.id,
      colorStatus(colors, t.status),
      progressText(t.progress),
      `${t.attempts}/${t.maxAttempts}`,
      t.owner ?? '-',
      t.createdAt,
    ]),
  );
}

/** A followed event as one line: `progress  40%  step 2`, `failed  boom (CODE)`. */
export function eventText(event: TaskEvent, colors: Colors): string {
  const name =
    event.status && event.type === event.status ? colorStatus(colors, event.status) : event.type;
  if (event.type === 'progress' && event.progress) {
    return `${colors.cyan('progress')}  ${progressText(event.progress)}`;
  }
  if (event.error) return `${name}  ${colors.red(errorText(event.error))}`;
  return name;
}

/** A log line as the program wrote it; stderr and Taskdock's own lines stand out on a TTY. */
export function logText(line: TaskLogLine, colors: Colors): string {
  if (line.stream === 'stderr') return colors.red(line.text);
  if (line.stream === 'system') return colors.dim(line.text);
  return line.text;
}
