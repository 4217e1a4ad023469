import { Command, CommanderError, Option } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import type { CliContext } from './cli-context.ts';
import { registerCompletion } from './commands/completion.ts';
import { registerRun } from './commands/run.ts';
import { registerScheduleCommands } from './commands/schedules.ts';
import { registerSystemCommands } from './commands/system.ts';
import { registerTaskCommands } from './commands/tasks.ts';
import { registerWork } from './commands/work.ts';
import { registerWorkerTokenCommands } from './commands/worker-tokens.ts';
import { CliError, EXIT } from './exit-codes.ts';
import { OUTPUT_MODES } from './output.ts';

/** Exit code of a stop by SIGINT/SIGTERM, as shells report one (128 + signal number). */
const INTERRUPTED = 130;

/** The whole command tree; every command's action sets `exit.code`. */
function buildProgram(ctx: CliContext, exit: { code: number }): Command {
  const program = new Command('taskdock')
    .description(
      'Run and watch Taskdock tasks from a terminal. Finds the running app by its runtime.json ' +
        '(TASKDOCK_DATA_DIR or the OS default); TASKDOCK_URL and TASKDOCK_TOKEN reach one elsewhere.',
    )
    .version(packageJson.version)
    .addOption(
      new Option('-o, --output <mode>', 'text (aligned, coloured on a TTY), json or jsonl')
        .choices(OUTPUT_MODES)
        .default('text'),
    )
    .option('--url <url>', 'API of a Taskdock elsewhere (also TASKDOCK_URL)')
    .option('--token <token>', 'its API token; visible in ps, prefer TASKDOCK_TOKEN')
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (text) => ctx.io.stdout.write(text),
      writeErr: (text) => ctx.io.stderr.write(text),
    })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 completed, 1 the task failed, 2 cancelled or timed out, 3 usage or connection
error, 4 not found.

Examples:
  $ taskdock run sleep --param ms=2000 --wait
  $ taskdock list --status failed
  $ taskdock logs <id> --follow
  $ taskdock retry --all --status failed --yes`,
    );
  registerRun(program, ctx, exit);
  registerTaskCommands(program, ctx, exit);
  registerSystemCommands(program, ctx, exit);
  registerScheduleCommands(program, ctx, exit);
  registerWorkerTokenCommands(program, ctx, exit);
  registerWork(program, ctx, exit, ctx.pid);
  registerCompletion(program, ctx, exit);
  return program;
}

/** Runs one command line; resolves with the exit code, having said what went wrong. */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  const exit = { code: EXIT.ok as number };
  const program = buildProgram(ctx, exit);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exit.code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (ctx.signal.aborted) return INTERRUPTED;
    if (err instanceof CliError) {
      ctx.io.stderr.write(`taskdock: ${err.message}\n`);
      return err.exitCode;
    }
    ctx.io.stderr.write(`taskdock: ${(err as Error).stack ?? err}\n`);
    return EXIT.usage;
  }
}
