import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WORKER_ENTRY = fileURLToPath(new URL('../../src/worker/main.ts', import.meta.url));
const BACKEND_DIR = path.dirname(path.dirname(WORKER_ENTRY));

export interface WorkerProcess {
  readonly pid: number;
  readonly output: () => string;
  /** Resolves once the worker logged "worker ready". */
  readonly ready: Promise<void>;
  /** SIGTERM (graceful) and wait for exit; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
  kill(): Promise<void>;
}

/**
 * Runs the real worker entry as a child process with an explicit env; `secrets` go on fd 3
 * (TASKDOCK_SECRETS_FD), as the supervisor hands them over.
 */
export function startWorkerProcess(
  env: Record<string, string>,
  secrets?: Record<string, string>,
): WorkerProcess {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', WORKER_ENTRY], {
    cwd: BACKEND_DIR,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TASKDOCK_LOG_LEVEL: 'info',
      ...env,
      ...(secrets ? { TASKDOCK_SECRETS_FD: '3' } : {}),
    },
    stdio: secrets ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
  });
  if (secrets) (child.stdio[3] as NodeJS.WritableStream).end(JSON.stringify(secrets));
  let output = '';
  let resolveReady: () => void;
  let rejectReady: (err: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  const onData = (chunk: Buffer) => {
    output += chunk;
    if (output.includes('"worker ready"')) resolveReady();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  child.on('exit', (code) =>
    rejectReady(new Error(`worker exited (${code}) before ready:\n${output}`)),
  );
  const exited = once(child, 'exit');
  return {
    pid: child.pid as number,
    output: () => output,
    ready,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      return child.exitCode;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
