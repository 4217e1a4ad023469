import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuntimeInfo } from '@taskdock/shared/node/runtime-file';
import { type DesktopConfig, loadDesktopConfig } from '../../src/config.ts';
import { findRepoRoot } from '../../src/paths.ts';
import { createTaskdock, type Taskdock, type TaskdockOptions } from '../../src/taskdock.ts';

export const REPO_ROOT = findRepoRoot(import.meta.url);
export const HEADLESS_ENTRY = fileURLToPath(new URL('../../src/headless.ts', import.meta.url));

/** Settings that keep the stack fast and its recovery quick in tests. */
export const TEST_ENV: Readonly<Record<string, string>> = {
  TASKDOCK_LOCK_DURATION_MS: '3000',
  TASKDOCK_SHUTDOWN_GRACE_MS: '3000',
  TASKDOCK_CONCURRENCY: '2',
};

/** The config a user would get from this environment, in `dataDir`. */
export function testConfig(dataDir: string, env: Record<string, string> = {}): DesktopConfig {
  return loadDesktopConfig({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    TASKDOCK_REDIS_SERVER: process.env.TASKDOCK_REDIS_SERVER,
    ...TEST_ENV,
    ...env,
    TASKDOCK_DATA_DIR: dataDir,
  });
}

/** A real stack (redis-server, worker, backend) from the TypeScript sources. */
export function testTaskdock(
  dataDir: string,
  options: Partial<TaskdockOptions> & { env?: Record<string, string> } = {},
): Taskdock {
  const { env, ...rest } = options;
  return createTaskdock({
    config: testConfig(dataDir, env),
    layout: { kind: 'source', repoRoot: REPO_ROOT },
    runner: { execPath: process.execPath, electron: false },
    supervisorPid: process.pid,
    restart: { initialDelayMs: 200, maxDelayMs: 2000 },
    ...rest,
  });
}

export async function readRuntime(dataDir: string): Promise<RuntimeInfo> {
  return JSON.parse(await readFile(path.join(dataDir, 'runtime.json'), 'utf8')) as RuntimeInfo;
}

/** A JSON request to the running backend with the bearer token. */
export async function api<T = unknown>(
  runtime: Pick<RuntimeInfo, 'apiUrl' | 'token'>,
  pathname: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${runtime.apiUrl}${pathname}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${runtime.token}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export interface HeadlessProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm run serve` as the user runs it (a real child process, explicit env). */
export function startHeadless(dataDir: string, env: Record<string, string> = {}): HeadlessProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', HEADLESS_ENTRY], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...(process.env.TASKDOCK_REDIS_SERVER
        ? { TASKDOCK_REDIS_SERVER: process.env.TASKDOCK_REDIS_SERVER }
        : {}),
      ...TEST_ENV,
      ...env,
      TASKDOCK_DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return { child, pid: child.pid as number, output: () => output, exited };
}
