import { TASK_STATUSES, type TaskStatus } from '@taskdock/shared/contract';
import { type Command, Option } from 'commander';
import { action, type CliContext, type Session } from '../cli-context.ts';
import { openTaskEvents } from '../event-stream.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { parseInteger } from '../parse-options.ts';
import { describeTask, logText, taskTable } from '../task-format.ts';
import { allMatches, applyToAll, confirm, type Filters } from './bulk.ts';
import { reportWatch } from './report-watch.ts';

interface FilterOptions {
  status?: TaskStatus;
  workflow?: string;
  owner?: string;
  q?: string;
}

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;

/** The list filters, as the UI's task list has them. */
function addFilters(command: Command, statuses: readonly TaskStatus[] = TASK_STATUSES): Command {
  return command
    .addOption(new Option('--status <status>', 'only tasks in this status').choices(statuses))
    .option('--workflow <name>', 'only tasks of this workflow')
    .option('--owner <owner>', 'only tasks of this owner')
    .option('-q, --q <text>', 'search: part of the id, workflow, owner or params, as the UI');
}

const filtersOf = (options: FilterOptions): Filters => ({
  ...(options.workflow === undefined ? {} : { workflow: options.workflow }),
  ...(options.owner === undefined ? {} : { owner: options.owner }),
  ...(options.q === undefined ? {} : { q: options.q }),
});

const perTaskEvents = (session: Session, id: string) =>
  session.api().then((api) => ({
    api,
    events: openTaskEvents(api, `/tasks/${encodeURIComponent(id)}/events`, session.ctx.signal),
  }));

export function registerTaskCommands(
  program: Command,
  ctx: CliContext,
  exit: { code: number },
): void {
  program
    .command('get')
    .description('Show a task (--wait: wait for its outcome and exit by it)')
    .argument('<id>', 'task id, e.g. shell:3f2a…')
    .option('-w, --wait', 'wait until it ends; exit 0 completed, 1 failed, 2 cancelled/timed out')
    .addHelpText('after', examples('taskdock get shell:3f2a9c --output json'))
    .action(
      action(ctx, exit, async (session, id: string, options: { wait?: boolean }) => {
        if (options.wait) {
          const { api, events } = await perTaskEvents(session, id);
          return reportWatch(session, api, id, events, 'wait');
        }
        const task = await (await session.api()).getTask(id);
        session.out.value(task, () => describeTask(task, session.out.colors));
        return EXIT.ok;
      }),
    );

  addFilters(
    program
      .command('list')
      .description('List tasks, newest first')
      .option('-n, --limit <n>', 'tasks per page (at most 500)', parseInteger, 50)
      .option('--cursor <cursor>', 'the next page, as the previous page said'),
  )
    .addHelpText(
      'after',
      examples(
        'taskdock list --status failed --workflow http',
        'taskdock list -q report --output jsonl',
      ),
    )
    .action(
      action(
        ctx,
        exit,
        async (session, options: FilterOptions & { limit: number; cursor?: string }) => {
          const page = await (await session.api()).listTasks({
            ...filtersOf(options),
            ...(options.status === undefined ? {} : { status: options.status }),
            limit: options.limit,
            ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
          });
          session.out.list(page.items, page, () => taskTable(page.items, session.out.colors));
          if (page.nextCursor) session.out.note(`more: --cursor ${page.nextCursor}`);
          return EXIT.ok;
        },
      ),
    );

  const bulk = (verb: 'cancel' | 'retry', statuses: readonly TaskStatus[]) =>
    addFilters(
      program
        .command(verb)
        .argument('[id]', 'the task (or --all)')
        .option('--all', `${verb} every task that matches the filters`)
        .option('-y, --yes', 'do not ask before a bulk change'),
      statuses,
    ).action(
      action(
        ctx,
        exit,
        async (
          session,
          id: string | undefined,
          options: FilterOptions & { all?: boolean; yes?: boolean },
        ) => {
          const api = await session.api();
          const request = verb === 'cancel' ? api.cancelTask : api.retryTask;
          if (id !== undefined) {
            if (options.all) throw new CliError(`Give a task id or --all, not both`);
            const task = await request(id);
            session.out.value(
              task,
              () => `${verb === 'cancel' ? 'cancelled' : 'retried'} ${task.id} (${task.status})`,
            );
            return EXIT.ok;
          }
          if (!options.all) throw new CliError(`Give a task id, or --all with filters`);
          const tasks = await allMatches(
            api,
            filtersOf(options),
            options.status ? [options.status] : statuses,
          );
          if (tasks.length === 0) {
            session.out.list([], { matched: 0, done: 0, items: [] }, () => 'no tasks match');
            return EXIT.ok;
          }
          const what = `${verb === 'cancel' ? 'Cancel' : 'Retry'} ${tasks.length} task${tasks.length === 1 ? '' : 's'}?`;
          if (!(await confirm(session, what, options.yes === true))) {
            session.out.note('nothing done');
            return EXIT.usage;
          }
          return applyToAll(session, tasks, verb === 'cancel' ? 'cancelled' : 'retried', request);
        },
      ),
    );
  bulk('cancel', ['queued', 'scheduled', 'running'])
    .description('Cancel a task, or every unfinished task that matches (--all)')
    .addHelpText(
      'after',
      examples('taskdock cancel shell:3f2a9c', 'taskdock cancel --all --owner alice --yes'),
    );
  bulk('retry', ['failed', 'cancelled'])
    .description('Re-queue a failed or cancelled task, or every one that matches (--all)')
    .addHelpText(
      'after',
      examples(
        'taskdock retry http:91be0d',
        'taskdock retry --all --status failed --workflow http --yes',
      ),
    );

  program
    .command('logs')
    .description("Print a task's log lines (--follow: until it ends, exit by its outcome)")
    .argument('<id>', 'task id')
    .option('-f, --follow', 'keep printing new lines until the task ends')
    .option('-n, --limit <n>', 'newest lines to print (at most 5000)', parseInteger)
    .addHelpText('after', examples('taskdock logs shell:3f2a9c --follow'))
    .action(
      action(
        ctx,
        exit,
        async (session, id: string, options: { follow?: boolean; limit?: number }) => {
          if (options.follow) {
            const { api, events } = await perTaskEvents(session, id);
            return reportWatch(session, api, id, events, 'logs');
          }
          const logs = await (await session.api()).taskLogs(id, options.limit);
          session.out.list(logs.lines, logs, () =>
            logs.lines.map((line) => logText(line, session.out.colors)).join('\n'),
          );
          return EXIT.ok;
        },
      ),
    );

  program
    .command('delete')
    .description('Delete a task and its log')
    .argument('<id>', 'task id')
    .addHelpText('after', examples('taskdock delete shell:3f2a9c'))
    .action(
      action(ctx, exit, async (session, id: string) => {
        await (await session.api()).deleteTask(id);
        session.out.value({ id, deleted: true }, () => `deleted ${id}`);
        return EXIT.ok;
      }),
    );
}
