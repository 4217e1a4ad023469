// The stack under test: `npm run serve` in a temp data dir, serving the built UI.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive } from '@taskdock/shared/node/processes';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const UI_DIR = path.join(REPO_ROOT, 'frontend', 'out');

export interface Runtime {
  readonly apiUrl: string;
  readonly token: string;
  readonly uiUrl: string;
  readonly pids: Record<string, number>;
}

export interface ServeStack {
  readonly runtime: Runtime;
  readonly dataDir: string;
  readonly output: () => string;
  /** A call to the API with the bearer token (test setup, never what the UI does). */
  api<T>(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/** Child pids of `pid` (Linux /proc); empty elsewhere. */
function childrenOf(pid: number): number[] {
  if (process.platform !== 'linux') return [];
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {}
  }
  return children;
}

/**
 * The headless runner under npm (npm → sh → node): npm does not pass SIGTERM on, so the
 * runner itself gets it and stops its services in order.
 */
export function runnerPid(npmPid: number): number | undefined {
  let pids = [npmPid];
  for (let depth = 0; depth < 4 && pids.length > 0; depth++) {
    const next = pids.flatMap(childrenOf);
    for (const pid of next) {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        const program = path.basename(argv[0] ?? '');
        const shell = ['sh', 'bash', 'dash', 'zsh'].includes(program);
        if (!shell && argv.some((a) => /headless\.[jt]s$/.test(a))) return pid;
      } catch {}
    }
    pids = next;
  }
  return undefined;
}

/** Starts `npm run serve` with TASKDOCK_DATA_DIR in a temp dir and waits for runtime.json. */
export async function startServe(timeoutMs = 90_000): Promise<ServeStack> {
  if (!existsSync(path.join(UI_DIR, 'index.html'))) {
    throw new Error(`No UI build in ${UI_DIR}: run \`npm run build:frontend\` first`);
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-e2e-'));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const child: ChildProcess = spawn(npm, ['run', '--silent', 'serve'], {
    cwd: REPO_ROOT,
    // An explicit env: never the whole of ours.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.homedir(),
      TMPDIR: os.tmpdir(),
      TASKDOCK_DATA_DIR: dataDir,
      TASKDOCK_UI_DIR: UI_DIR,
      TASKDOCK_CONCURRENCY: '8',
      TASKDOCK_MAX_PER_OWNER: '8',
      ...(process.env.TASKDOCK_REDIS_SERVER
        ? { TASKDOCK_REDIS_SERVER: process.env.TASKDOCK_REDIS_SERVER }
        : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: process.platform !== 'win32',
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = once(child, 'exit');

  const stop = async () => {
    const npmPid = child.pid;
    if (child.exitCode === null && child.signalCode === null && npmPid) {
      const runner = runnerPid(npmPid);
      if (runner) process.kill(runner, 'SIGTERM');
      else child.kill('SIGTERM');
      const timer = setTimeout(() => {
        // The supervisor has its own grace periods; past ours, end npm's process group.
        if (isAlive(npmPid)) process.kill(-npmPid, 'SIGKILL');
      }, 30_000);
      await exited;
      clearTimeout(timer);
      if (runner) {
        const deadline = Date.now() + 30_000;
        while (isAlive(runner) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 50));
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  const runtimeFile = path.join(dataDir, 'runtime.json');
  const deadline = Date.now() + timeoutMs;
  let runtime: Runtime | undefined;
  while (!runtime) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`npm run serve exited (${child.exitCode}) before it was ready:\n${output}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`npm run serve was not ready within ${timeoutMs} ms:\n${output}`);
    }
    try {
      const parsed = JSON.parse(await readFile(runtimeFile, 'utf8')) as Runtime;
      if (parsed.uiUrl && output.includes(parsed.uiUrl)) runtime = parsed;
    } catch {}
    if (!runtime) await new Promise((r) => setTimeout(r, 200));
  }
  const ready = runtime;

  return {
    runtime: ready,
    dataDir,
    output: () => output,
    async api<T>(method: string, pathname: string, body?: unknown) {
      const response = await fetch(new URL(pathname, ready.apiUrl), {
        method,
        headers: {
          authorization: `Bearer ${ready.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    stop,
  };
}
