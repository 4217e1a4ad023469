import type { Command } from 'commander';
import { action, type CliContext } from '../cli-context.ts';
import { EXIT } from '../exit-codes.ts';
import { table } from '../output.ts';
import { buildParams, collectParam, type ParamSources } from '../parse-options.ts';

const example = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;

export function registerScheduleCommands(
  program: Command,
  ctx: CliContext,
  exit: { code: number },
): void {
  const schedules = program
    .command('schedules')
    .description('Cron schedules: list, add (or replace), rm')
    .addHelpText(
      'after',
      example(
        'taskdock schedules list',
        "taskdock schedules add nightly http '0 3 * * *' -p url=https://example.com",
      ),
    );

  schedules
    .command('list', { isDefault: true })
    .description('List schedules with their next run')
    .addHelpText('after', example('taskdock schedules list --output json'))
    .action(
      action(ctx, exit, async (session) => {
        const list = await (await session.api()).listSchedules();
        session.out.list(list.items, list, () =>
          list.items.length === 0
            ? session.out.colors.dim('no schedules')
            : table(
                ['NAME', 'WORKFLOW', 'PATTERN', 'TZ', 'NEXT RUN'],
                list.items.map((s) => [
                  s.id,
                  s.workflow,
                  s.pattern,
                  s.tz ?? '-',
                  s.nextRunAt ?? '-',
                ]),
              ),
        );
        return EXIT.ok;
      }),
    );

  schedules
    .command('add')
    .description('Add a schedule, or replace the one of that name')
    .argument('<name>', 'schedule name')
    .argument('<workflow>', 'workflow its tasks run')
    .argument('<pattern>', 'cron pattern (5 fields, or 6 with seconds first); quote it')
    .option('--tz <zone>', 'IANA time zone, e.g. Europe/Paris')
    .option('-p, --param <key=value>', 'a param of its tasks (repeatable)', collectParam)
    .option('--params-json <json>', 'params as one JSON object')
    .option('--params-file <file>', 'params from a JSON file (- reads stdin)')
    .option('--owner <owner>', 'owner of its tasks')
    .addHelpText('after', example("taskdock schedules add every-5m sleep '*/5 * * * *' -p ms=1000"))
    .action(
      action(
        ctx,
        exit,
        async (
          session,
          name: string,
          workflow: string,
          pattern: string,
          options: ParamSources & { tz?: string; owner?: string },
        ) => {
          const params = await buildParams(options, session.readStdin, () =>
            session.paramsSchema(workflow),
          );
          const schedule = await (await session.api()).upsertSchedule(name, {
            workflow,
            pattern,
            ...(options.tz === undefined ? {} : { tz: options.tz }),
            ...(params === undefined ? {} : { params }),
            ...(options.owner === undefined ? {} : { owner: options.owner }),
          });
          session.out.value(
            schedule,
            () => `${schedule.id}  next run ${schedule.nextRunAt ?? '-'}`,
          );
          return EXIT.ok;
        },
      ),
    );

  schedules
    .command('rm')
    .description('Remove a schedule (its tasks stay)')
    .argument('<name>', 'schedule name')
    .addHelpText('after', example('taskdock schedules rm nightly'))
    .action(
      action(ctx, exit, async (session, name: string) => {
        await (await session.api()).removeSchedule(name);
        session.out.value({ id: name, removed: true }, () => `removed ${name}`);
        return EXIT.ok;
      }),
    );
}
