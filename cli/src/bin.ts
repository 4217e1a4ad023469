#!/usr/bin/env node
// ENTRY of the `taskdock` command: the only place that reads the environment and argv, handles
// signals and exits. Everything else gets them as arguments (cli-context.ts).
import { defaultDataDir } from '@taskdock/shared/node/data-paths';
import { runCli } from './program.ts';

/** Secrets the command `work` runs must not inherit (it gets its task, not our access). */
const NOT_INHERITED = ['TASKDOCK_TOKEN', 'TASKDOCK_URL'];

const env = process.env;
const stop = new AbortController();
let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  // The first asks long commands to stop (`work` releases its leases); a second one insists.
  if (++signals > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
  stop.abort(new Error(`stopped by ${signal}`));
};
// A reader that went away (`taskdock list | head`) ends the command, as it does for `ls`.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const code = await runCli(process.argv.slice(2), {
  io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
  settings: {
    url: env.TASKDOCK_URL || undefined,
    token: env.TASKDOCK_TOKEN || undefined,
    dataDir: env.TASKDOCK_DATA_DIR || defaultDataDir(env),
    color: process.stdout.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb',
    childEnv: Object.fromEntries(
      Object.entries(env).filter(
        (entry): entry is [string, string] =>
          entry[1] !== undefined && !NOT_INHERITED.includes(entry[0]),
      ),
    ),
  },
  signal: stop.signal,
  pid: process.pid,
});
// Open streams and sockets must not keep a finished command alive.
process.exit(code);
