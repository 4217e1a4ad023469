import { runCommand } from './command-run.ts';
import { Tail } from './output-lines.ts';
import { checkShellParams, ShellParams } from './shell-params.ts';
import type { ProcessGroupTracker } from './task-process.ts';
import { defineWorkflow } from './workflow.ts';

const STDOUT_TAIL_LINES = 100;

export interface ShellOptions {
  /** The variables every command starts with (PATH, HOME, …); params.env is laid over them. */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** The worker's record of running tasks' process groups (none in the API process). */
  readonly processGroups?: ProcessGroupTracker;
}

export function createShellWorkflow({ baseEnv, processGroups }: ShellOptions) {
  return defineWorkflow({
    name: 'shell',
    description:
      'Runs a program without a shell. Output lines become task logs; a line "::progress N [step]" sets progress.',
    paramsSchema: ShellParams,
    checkParams: checkShellParams,
    async run(ctx) {
      const { params, limits } = ctx;
      // An eighth of the result cap: even escaped as JSON, the result stays within it.
      const stdoutTail = new Tail(STDOUT_TAIL_LINES, Math.floor(limits.resultBytes / 8));
      await runCommand(
        ctx,
        {
          command: params.command,
          args: params.args ?? [],
          cwd: params.cwd,
          env: { ...baseEnv, ...params.env },
        },
        { progressLines: true, onStdout: (line) => stdoutTail.push(line), processGroups },
      );
      return {
        exitCode: 0,
        stdoutTail: stdoutTail.text(),
        // The whole output is in the task's logs (up to their caps).
        ...(stdoutTail.truncated ? { truncated: true } : {}),
      };
    },
  });
}
