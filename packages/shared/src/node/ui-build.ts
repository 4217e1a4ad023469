import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type Env, OS_ENV_KEYS, pickEnv } from './env.ts';
import { killTree } from './processes.ts';
import {
  clearUiBuildStatus,
  readUiBuildStatus,
  uiBuildFiles,
  writeUiBuildStatus,
} from './ui-build-status.ts';

/**
 * The UI is built by the first start of a source checkout (`npm run serve`, `npm start`), not
 * by `npm install`: every install (`npm ci` in CI, a dependency bump) would pay a minute of
 * `next build` for a UI it may never serve, and a package carries its UI. `npm run serve`
 * (desktop headless.ts) does not wait for it: the backend's page says the UI is being built and
 * reloads itself; `npm start` (scripts/start-electron.ts) builds it before the window opens.
 */
export interface UiBuildPlan {
  readonly frontendDir: string;
  readonly uiDir: string;
  readonly log: string;
}

/** Where a checkout's UI static export is: `npm run build:frontend` (next build) writes it. */
export const checkoutUiDir = (repoRoot: string) => path.join(repoRoot, 'frontend', 'out');

/**
 * A build to run, or null: a package (no checkout: its UI is in the resources), a
 * TASKDOCK_UI_DIR (the user's folder, never written), a checkout without frontend/, or a UI
 * already built.
 */
export function uiBuildNeeded(where: {
  readonly checkoutRoot: string | undefined;
  readonly configuredUiDir: string | undefined;
}): UiBuildPlan | null {
  if (where.checkoutRoot === undefined || where.configuredUiDir !== undefined) return null;
  const frontendDir = path.join(where.checkoutRoot, 'frontend');
  const uiDir = checkoutUiDir(where.checkoutRoot);
  if (!existsSync(path.join(frontendDir, 'package.json'))) return null;
  if (existsSync(path.join(uiDir, 'index.html'))) return null;
  return { frontendDir, uiDir, log: uiBuildFiles(uiDir).log };
}

export type UiBuildResult =
  | { readonly outcome: 'built'; readonly durationMs: number }
  | { readonly outcome: 'failed'; readonly message: string }
  /** Another start of this checkout builds it (its pid): one `next build` into frontend/out. */
  | { readonly outcome: 'elsewhere'; readonly pid: number };

export interface UiBuild {
  readonly pid: number | undefined;
  readonly done: Promise<UiBuildResult>;
  /** Stops the build (its whole tree) and forgets it: the next start builds again. */
  stop(): Promise<void>;
}

/** A build that hangs (a stuck worker) is stopped and reported, not waited for forever. */
export const UI_BUILD_TIMEOUT_MS = 10 * 60_000;
const STOP_GRACE_MS = 5000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes in next's output
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * What the log says went wrong, for the console and page: from the first line naming an error
 * (next's "> Build error occurred", "Type error: …", "Failed to compile"), else its last lines.
 */
async function failureLines(log: string): Promise<string> {
  const text = await readFile(log, 'utf8').catch(() => '');
  const lines = text
    .replace(ANSI, '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const first = lines.findIndex((line) => /error|failed/i.test(line));
  const picked = first === -1 ? lines.slice(-3) : lines.slice(first, first + 4);
  return picked.join(' / ').slice(0, 500);
}

const settled = (result: UiBuildResult): UiBuild => ({
  pid: undefined,
  done: Promise.resolve(result),
  stop: async () => {},
});

/**
 * Runs `next build` for the plan with `execPath` (plain node: only source and built layouts
 * build), its output into the plan's log file, and `frontend/out.build.json` saying so while it
 * runs (the backend's page reads it) or why it failed.
 */
export async function startUiBuild(
  plan: UiBuildPlan,
  options: { readonly execPath: string; readonly env: Env; readonly timeoutMs?: number },
): Promise<UiBuild> {
  const current = await readUiBuildStatus(plan.uiDir);
  if (current?.state === 'building') return settled({ outcome: 'elsewhere', pid: current.pid });

  let nextBin: string;
  try {
    nextBin = createRequire(path.join(plan.frontendDir, 'package.json')).resolve(
      'next/dist/bin/next',
    );
  } catch {
    const message = 'next is not installed in frontend/ (run `npm install`)';
    await writeUiBuildStatus(plan.uiDir, { state: 'failed', message, log: plan.log });
    return settled({ outcome: 'failed', message });
  }

  const began = Date.now();
  const logFd = openSync(plan.log, 'w');
  let child: ChildProcess;
  try {
    child = spawn(options.execPath, [nextBin, 'build'], {
      cwd: plan.frontendDir,
      env: { ...pickEnv(options.env, OS_ENV_KEYS), NEXT_TELEMETRY_DISABLED: '1' },
      stdio: ['ignore', logFd, logFd],
      windowsHide: true,
    });
  } finally {
    closeSync(logFd);
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    },
  );
  const pid = child.pid;
  // Once it exited its pid may name another process: never signal it then.
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  if (pid) await writeUiBuildStatus(plan.uiDir, { state: 'building', pid, log: plan.log });

  let stopping = false;
  let timedOut = false;
  const kill = async () => {
    if (!pid || ended) return;
    await killTree(pid, 'SIGTERM');
    const forced = setTimeout(() => void killTree(pid, 'SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(forced);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    void kill();
  }, options.timeoutMs ?? UI_BUILD_TIMEOUT_MS);

  const done = exited.then(async ({ code, signal, error }): Promise<UiBuildResult> => {
    clearTimeout(timer);
    if (stopping) {
      await clearUiBuildStatus(plan.uiDir);
      return { outcome: 'failed', message: 'stopped before it finished' };
    }
    if (code === 0 && existsSync(path.join(plan.uiDir, 'index.html'))) {
      await clearUiBuildStatus(plan.uiDir);
      return { outcome: 'built', durationMs: Date.now() - began };
    }
    const why = error
      ? `could not run next build: ${error.message}`
      : timedOut
        ? `next build took longer than ${Math.round((options.timeoutMs ?? UI_BUILD_TIMEOUT_MS) / 1000)} s and was stopped`
        : `next build ${signal ? `was killed (${signal})` : `exited with code ${code}`}: ${await failureLines(plan.log)}`;
    await writeUiBuildStatus(plan.uiDir, { state: 'failed', message: why, log: plan.log });
    return { outcome: 'failed', message: why };
  });

  return {
    pid,
    done,
    async stop() {
      stopping = true;
      await kill();
      await done;
    },
  };
}
