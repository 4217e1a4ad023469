import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER_ENTRY = fileURLToPath(new URL('../../src/server.ts', import.meta.url));
const BACKEND_DIR = path.dirname(path.dirname(SERVER_ENTRY));

export interface BackendProcess {
  readonly pid: number;
  readonly output: () => string;
  /** The API's base URL once it logged "backend listening"; rejects if it exits first. */
  readonly listening: Promise<string>;
  /** The exit code once it exited (null: killed by a signal). */
  readonly exited: Promise<number | null>;
  /** SIGTERM and wait for exit; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Runs the real API entry (src/server.ts) as a child process with an explicit env, as a
 * supervisor or a user's systemd unit would; `secrets` go on fd 3 (TASKDOCK_SECRETS_FD).
 */
export function startBackendProcess(
  env: Record<string, string>,
  secrets?: Record<string, string>,
): BackendProcess {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SERVER_ENTRY], {
    cwd: BACKEND_DIR,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TASKDOCK_LOG_LEVEL: 'info',
      TASKDOCK_PORT: '0',
      ...env,
      ...(secrets ? { TASKDOCK_SECRETS_FD: '3' } : {}),
    },
    stdio: secrets ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
  });
  if (secrets) (child.stdio[3] as NodeJS.WritableStream).end(JSON.stringify(secrets));
  let output = '';
  let resolveListening: (url: string) => void;
  let rejectListening: (err: Error) => void;
  const listening = new Promise<string>((resolve, reject) => {
    resolveListening = resolve;
    rejectListening = reject;
  });
  listening.catch(() => {});
  const onData = (chunk: Buffer) => {
    output += chunk;
    const line = output
      .split('\n')
      .slice(0, -1)
      .find((l) => l.includes('"msg":"backend listening"'));
    if (line) resolveListening((JSON.parse(line) as { url: string }).url);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  void exited.then((code) =>
    rejectListening(new Error(`backend exited (${code}) before listening:\n${output}`)),
  );
  return {
    pid: child.pid as number,
    output: () => output,
    listening,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
