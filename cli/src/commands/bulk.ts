import { createInterface } from 'node:readline/promises';
import {
  type ListTasksQuery,
  TASK_LIMITS,
  type Task,
  type TaskStatus,
  type TaskSummary,
} from '@taskdock/shared/contract';
import { type ApiClient, ApiError } from '../api-client.ts';
import type { Session } from '../cli-context.ts';
import { CliError, EXIT } from '../exit-codes.ts';

/** Requests in flight at once: quick for hundreds of tasks, gentle on a laptop's API. */
const PARALLEL = 8;

export type Filters = Omit<ListTasksQuery, 'limit' | 'cursor' | 'status'>;

/** Every task that matches, across all pages, for each status given (in that order). */
export async function allMatches(
  api: ApiClient,
  filters: Filters,
  statuses: readonly TaskStatus[],
): Promise<TaskSummary[]> {
  const found: TaskSummary[] = [];
  for (const status of statuses) {
    let cursor: string | undefined;
    do {
      const page = await api.listTasks({
        ...filters,
        status,
        limit: TASK_LIMITS.maxListLimit,
        ...(cursor === undefined ? {} : { cursor }),
      });
      found.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }
  return found;
}

/** Asks on the terminal unless --yes; refuses without a terminal to ask on. */
export async function confirm(session: Session, question: string, yes: boolean): Promise<boolean> {
  if (yes) return true;
  const { stdin, stderr } = session.ctx.io;
  if (!stdin.isTTY) throw new CliError(`${question} Not asked without a terminal: pass --yes`);
  const prompt = createInterface({
    input: stdin as NodeJS.ReadableStream,
    output: stderr as NodeJS.WritableStream,
  });
  try {
    const answer = await prompt.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

/**
 * Applies `request` to each task, a few at a time, printing one record per task; exit code 0
 * when every request succeeded, else 1.
 */
export async function applyToAll(
  session: Session,
  tasks: readonly TaskSummary[],
  verb: string,
  request: (id: string) => Promise<Task>,
): Promise<number> {
  const { out } = session;
  const items: { id: string; ok: boolean; status?: string; error?: string }[] = [];
  const report = (item: (typeof items)[number], text: string) => {
    items.push(item);
    out.record(item, () => text);
  };
  let failures = 0;
  let next = 0;
  const workers = Array.from({ length: Math.min(PARALLEL, tasks.length) }, async () => {
    for (let i = next++; i < tasks.length; i = next++) {
      const id = (tasks[i] as TaskSummary).id;
      try {
        const task = await request(id);
        report({ id, ok: true, status: task.status }, `${verb} ${id}`);
      } catch (err) {
        // A task the API refuses (finished meanwhile, gone) is reported; no API at all stops.
        if (!(err instanceof ApiError) || err.status === 401) throw err;
        failures++;
        report({ id, ok: false, error: err.message }, `not ${verb} ${id}: ${err.message}`);
      }
    }
  });
  await Promise.all(workers);
  const done = tasks.length - failures;
  if (out.mode === 'json') out.value({ matched: tasks.length, done, items }, () => '');
  out.note(`${done} of ${tasks.length} ${verb}${failures > 0 ? `, ${failures} refused` : ''}`);
  return failures > 0 ? EXIT.failed : EXIT.ok;
}
