import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@taskdock/desktop/test/helpers/process.ts';
import {
  type HeadlessProcess,
  readRuntime,
  startHeadless,
} from '@taskdock/desktop/test/helpers/stack.ts';
import type { RuntimeInfo } from '@taskdock/shared/node/runtime-file';

export const BIN = fileURLToPath(new URL('../../src/bin.ts', import.meta.url));
const REPO_ROOT = path.resolve(path.dirname(BIN), '..', '..');

export interface RunningApp {
  readonly dataDir: string;
  readonly runtime: RuntimeInfo;
  readonly headless: HeadlessProcess;
}

/** `npm run serve` in `dataDir`, once its runtime.json says it is ready. */
export async function startApp(dataDir: string, pids: Set<number | null | undefined>) {
  const headless = startHeadless(dataDir);
  pids.add(headless.pid);
  const runtime = await waitFor(
    'runtime.json',
    async () => {
      if (headless.child.exitCode !== null) throw new Error(`serve exited:\n${headless.output()}`);
      return readRuntime(dataDir).catch(() => undefined);
    },
    60_000,
    100,
  );
  return { dataDir, runtime, headless } satisfies RunningApp;
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** TASKDOCK_DATA_DIR of the command (where it looks for runtime.json). */
  readonly dataDir: string;
  readonly env?: Record<string, string>;
  readonly input?: string;
}

/** The real `taskdock` command in a child process, with an explicit environment. */
export function spawnTaskdock(args: readonly string[], options: CliOptions) {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TASKDOCK_DATA_DIR: options.dataDir,
      ...options.env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  child.stdin.end(options.input ?? '');
  const done = once(child, 'close').then(
    ([code]): CliRun => ({ code: code as number | null, stdout, stderr }),
  );
  return {
    child: child as ChildProcess,
    pid: child.pid as number,
    stdout: () => stdout,
    done,
  };
}

/** Runs `taskdock …` to its end (killed after `timeoutMs`). */
export async function taskdock(
  args: readonly string[],
  options: CliOptions & { timeoutMs?: number },
): Promise<CliRun> {
  const run = spawnTaskdock(args, options);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  try {
    return await run.done;
  } finally {
    clearTimeout(timer);
  }
}

/** Each non-empty line of `text` parsed as JSON (a line that is not JSON throws). */
export const jsonLines = (text: string): unknown[] =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
