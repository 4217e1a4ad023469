import type { Command } from 'commander';
import { action, type CliContext } from '../cli-context.ts';
import { EXIT } from '../exit-codes.ts';
import { parseInteger } from '../parse-options.ts';
import { defaultWorkerId, runRemoteWorker } from '../remote-worker.ts';

interface WorkOptions {
  workflows: string;
  concurrency: number;
  workerId?: string;
}

export function registerWork(
  program: Command,
  ctx: CliContext,
  exit: { code: number },
  pid: number,
): void {
  program
    .command('work')
    .description('Be a remote worker: run <command> once per leased task of the workflows')
    .requiredOption(
      '--workflows <globs>',
      'comma-separated remote workflows or globs, e.g. render*,gpu',
    )
    .option('-c, --concurrency <n>', 'tasks at once', parseInteger, 1)
    .option('--worker-id <id>', 'the name the workers table shows (default host-pid)')
    .argument('<command...>', 'the program and its arguments, after --')
    .addHelpText(
      'after',
      `
Each task's params reach the command as JSON on stdin and as TASKDOCK_PARAM_<KEY> variables
(also TASKDOCK_TASK_ID, TASKDOCK_WORKFLOW, TASKDOCK_ATTEMPT). Its stdout lines
"::progress N [step]" set progress, every other line is logged, the last line that is JSON is
the result; exit code 0 completes the task, any other fails it. A cancel stops the command;
SIGTERM or Ctrl-C stops every command and hands their tasks back (no attempt counted).
The token is TASKDOCK_TOKEN: a worker token (taskdock worker-tokens create) or the main one.

Example:
  $ TASKDOCK_URL=https://taskdock.lan:7300 TASKDOCK_TOKEN=… \\
      taskdock work --workflows 'render*' --concurrency 2 -- python3 render.py`,
    )
    .action(
      action(ctx, exit, async (session, commandLine: string[], options: WorkOptions) => {
        const [command, ...args] = commandLine as [string, ...string[]];
        const workflows = options.workflows
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean);
        const workerId = options.workerId ?? defaultWorkerId(pid);
        const api = await session.api();
        session.out.note(`worker ${workerId} serving ${workflows.join(', ')} at ${api.url}`);
        await runRemoteWorker({
          api,
          workerId,
          workflows,
          concurrency: Math.max(1, options.concurrency),
          command,
          args,
          env: session.ctx.settings.childEnv,
          signal: session.ctx.signal,
          report: (line, data) => session.out.record(data, () => line),
        });
        session.out.note('stopped: every lease handed back');
        return EXIT.ok;
      }),
    );
}
