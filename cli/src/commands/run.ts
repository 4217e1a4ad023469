import { FINAL_STATUSES } from '@taskdock/shared/contract';
import { type Command, Option } from 'commander';
import { action, type CliContext } from '../cli-context.ts';
import { openTaskEvents } from '../event-stream.ts';
import { EXIT } from '../exit-codes.ts';
import { buildParams, collectParam, parseDuration, parseInteger } from '../parse-options.ts';
import { reportWatch } from './report-watch.ts';

interface RunOptions {
  param?: [string, string][];
  paramsJson?: string;
  paramsFile?: string;
  owner?: string;
  priority?: number;
  delay?: number;
  timeout?: number;
  attempts?: number;
  idempotencyKey?: string;
  wait?: boolean;
  follow?: boolean;
}

export function registerRun(program: Command, ctx: CliContext, exit: { code: number }): void {
  program
    .command('run')
    .description('Create a task; prints its id, or with --wait/--follow its outcome')
    .argument('<workflow>', 'workflow name (see `taskdock workflows`)')
    .option(
      '-p, --param <key=value>',
      'a param; the value is JSON when it parses, else text (repeatable)',
      collectParam,
    )
    .option('--params-json <json>', 'params as one JSON object')
    .option('--params-file <file>', 'params from a JSON file (- reads stdin)')
    .option('--owner <owner>', 'owner label (per-owner concurrency applies)')
    .option('--priority <n>', '0 is highest; larger runs later', parseInteger)
    .option('--delay <duration>', 'start no sooner than this (500, 2s, 5m, 1h)', parseDuration)
    .option('--timeout <duration>', 'fail an attempt that runs longer', parseDuration)
    .option('--attempts <n>', 'attempts before the task fails', parseInteger)
    .option('--idempotency-key <key>', 'a repeated key returns the first task instead of a new one')
    .option(
      '-w, --wait',
      'wait for the outcome; exit code 0 completed, 1 failed, 2 cancelled/timed out',
    )
    .addOption(
      new Option('-f, --follow', 'stream progress and log lines until it ends (implies --wait)'),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ taskdock run shell --param command=echo --param 'args=["hello"]' --wait
  $ taskdock run sleep --param ms=3000 --param steps=3 --follow
  $ id=$(taskdock run http --params-json '{"url":"https://example.com"}')`,
    )
    .action(
      action(ctx, exit, async (session, workflow: string, options: RunOptions) => {
        const params = await buildParams(options, session.readStdin, () =>
          session.paramsSchema(workflow),
        );
        const api = await session.api();
        const watching = options.follow || options.wait;
        // Open before creating: a task that ends at once still shows every event.
        const events = watching ? openTaskEvents(api, '/events', session.ctx.signal) : undefined;
        try {
          await events?.opened;
          const task = await api.createTask({
            workflow,
            ...(params === undefined ? {} : { params }),
            ...(options.owner === undefined ? {} : { owner: options.owner }),
            ...(options.priority === undefined ? {} : { priority: options.priority }),
            ...(options.delay === undefined ? {} : { delayMs: options.delay }),
            ...(options.timeout === undefined ? {} : { timeoutMs: options.timeout }),
            ...(options.attempts === undefined ? {} : { maxAttempts: options.attempts }),
            ...(options.idempotencyKey === undefined
              ? {}
              : { idempotencyKey: options.idempotencyKey }),
            source: 'cli',
          });
          if (events === undefined) {
            session.out.value(task, () => task.id);
            return EXIT.ok;
          }
          session.out.note(`${task.id}  ${task.status}`);
          const style = options.follow ? 'follow' : 'wait';
          // A repeated idempotency key may return a task that ended long ago: no events to come.
          const fromStart = !FINAL_STATUSES.includes(task.status);
          return await reportWatch(session, api, task.id, events, style, fromStart);
        } finally {
          events?.close();
        }
      }),
    );
}
