import { TASK_STATUSES } from '@taskdock/shared/contract';
import type { Command } from 'commander';
import { action, type CliContext } from '../cli-context.ts';
import { EXIT } from '../exit-codes.ts';
import { table } from '../output.ts';

const example = (line: string) => `\nExample:\n  $ ${line}`;

/** stats, workers, services, workflows: the dashboard and services page in a terminal. */
export function registerSystemCommands(
  program: Command,
  ctx: CliContext,
  exit: { code: number },
): void {
  program
    .command('stats')
    .description('Totals, counts by status and throughput, overall and per workflow')
    .addHelpText('after', example('taskdock stats --output json'))
    .action(
      action(ctx, exit, async (session) => {
        const stats = await (await session.api()).stats();
        session.out.value(stats, () => {
          const t = stats.totals;
          const head = `created ${t.created}  completed ${t.completed}  failed ${t.failed}  cancelled ${t.cancelled}  (${stats.throughput.last1m.toFixed(1)}/min)`;
          const rows = stats.workflows.map((w) => [
            w.name,
            ...TASK_STATUSES.map((s) => String(w.byStatus[s])),
            w.throughput.last1m.toFixed(1),
          ]);
          const all = [
            'all',
            ...TASK_STATUSES.map((s) => String(stats.byStatus[s])),
            stats.throughput.last1m.toFixed(1),
          ];
          return `${head}\n\n${table(['WORKFLOW', ...TASK_STATUSES.map((s) => s.toUpperCase()), 'PER MIN'], [...rows, all])}`;
        });
        return EXIT.ok;
      }),
    );

  program
    .command('workers')
    .description('Live workers: where they run, what they serve and run now')
    .addHelpText('after', example('taskdock workers'))
    .action(
      action(ctx, exit, async (session) => {
        const { workers } = await (await session.api()).stats();
        session.out.list(workers, { items: workers }, () =>
          workers.length === 0
            ? session.out.colors.yellow('no live worker: tasks wait in their queues')
            : table(
                ['ID', 'HOST', 'PID', 'WORKFLOWS', 'RUNNING', 'LAST SEEN'],
                workers.map((w) => [
                  w.id,
                  w.host,
                  String(w.pid),
                  w.workflows.join(','),
                  `${w.running}/${w.concurrency}`,
                  w.lastSeenAt,
                ]),
              ),
        );
        return EXIT.ok;
      }),
    );

  program
    .command('services')
    .description('The processes the app supervises: status, pid, restarts')
    .addHelpText('after', example('taskdock services'))
    .action(
      action(ctx, exit, async (session) => {
        const list = await (await session.api()).services();
        const { colors } = session.out;
        session.out.list(list.services, list, () =>
          list.supervised
            ? table(
                ['SERVICE', 'STATUS', 'PID', 'RESTARTS', 'SINCE', 'NOTE'],
                list.services.map((s) => [
                  s.name,
                  s.status === 'running'
                    ? colors.green(s.status)
                    : s.status === 'failed'
                      ? colors.red(s.status)
                      : s.status,
                  s.pid === null ? '-' : String(s.pid),
                  String(s.restarts),
                  s.readyAt ?? s.startedAt ?? '-',
                  s.message ?? s.lastExit?.reason ?? '',
                ]),
              )
            : 'not supervised: this backend was started on its own',
        );
        return EXIT.ok;
      }),
    );

  program
    .command('workflows')
    .description('Workflows tasks can run, with their live workers')
    .addHelpText('after', example('taskdock workflows --output json'))
    .action(
      action(ctx, exit, async (session) => {
        const list = await (await session.api()).workflows();
        session.out.list(list.items, list, () =>
          table(
            ['NAME', 'WORKERS', 'DESCRIPTION'],
            list.items.map((w) => [w.name, String(w.workers), w.description]),
          ),
        );
        return EXIT.ok;
      }),
    );
}
