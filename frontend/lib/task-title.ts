import type { TaskSummary } from '@taskdock/shared/contract';
import { formatDuration, shortId } from './format';

/** A schedule's tasks have job ids `repeat:<schedule>:<run time in ms>` (BullMQ job schedulers). */
const SCHEDULED_JOB = /^[^:]+:repeat:(.+):(\d+)$/;

const runClock = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** The schedule and run time a task id names, when a schedule made it. */
export function scheduledRun(id: string): { schedule: string; at: number } | null {
  const match = SCHEDULED_JOB.exec(id);
  return match ? { schedule: match[1] as string, at: Number(match[2]) } : null;
}

const clip = (text: string, max = 60) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** What the built-in workflows' params say the task does; null for other workflows. */
function describeParams(workflow: string, params: unknown): string | null {
  if (typeof params !== 'object' || params === null) return null;
  const p = params as Record<string, unknown>;
  if (workflow === 'shell' && typeof p.command === 'string') {
    const args = Array.isArray(p.args) ? p.args.map(String) : [];
    return clip([p.command, ...args].join(' '));
  }
  if (workflow === 'http' && typeof p.url === 'string') {
    return clip(`${typeof p.method === 'string' ? p.method : 'GET'} ${p.url}`);
  }
  if (workflow === 'sleep' && typeof p.ms === 'number') return `sleep ${formatDuration(p.ms)}`;
  return null;
}

/**
 * A task's name for people: its schedule's name and run time, else what it runs (`sh -c …`,
 * `GET https://…`), else its id shortened in the middle.
 */
export function taskTitle(task: Pick<TaskSummary, 'id' | 'workflow' | 'params' | 'schedule'>): {
  title: string;
  /** Whether the title says more than the id (then show the id beside it). */
  named: boolean;
} {
  const run = scheduledRun(task.id);
  const schedule = task.schedule ?? run?.schedule;
  if (schedule) {
    return {
      title: run ? `${schedule} · run of ${runClock.format(run.at)}` : schedule,
      named: true,
    };
  }
  const described = describeParams(task.workflow, task.params);
  return described ? { title: described, named: true } : { title: shortId(task.id), named: false };
}

/** For places that have only the id (a worker's active tasks): the schedule run, or the id. */
export function taskIdLabel(id: string, max = 28): string {
  const run = scheduledRun(id);
  return run ? `${run.schedule} · ${runClock.format(run.at)}` : shortId(id, max);
}
