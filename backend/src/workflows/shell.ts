import { spawn } from 'node:child_process';
import { once } from 'node:events';
import readline from 'node:readline';
import { Type } from '@sinclair/typebox';
import treeKill from 'tree-kill';
import { defineWorkflow, type LogStream, Tail, TaskFailure } from './workflow.ts';

const PROGRESS_LINE = /^::progress\s+(\d{1,3}(?:\.\d+)?)(?:\s+(.*))?$/;

/** `::progress 40 compiling` → `{ percent: 40, step: 'compiling' }`; anything else → null. */
export function parseProgressLine(line: string): { percent: number; step?: string } | null {
  const match = PROGRESS_LINE.exec(line.trim());
  if (!match?.[1]) return null;
  const percent = Math.min(100, Number(match[1]));
  const step = match[2]?.trim();
  return step ? { percent, step } : { percent };
}

/** What a command inherits from the worker's environment; nothing else leaks into tasks. */
export const SHELL_ENV_KEYS = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'TEMP',
  'TMP',
  'SystemRoot',
  'SystemDrive',
  'ComSpec',
  'PATHEXT',
  'WINDIR',
  'USERPROFILE',
  'APPDATA',
  'LOCALAPPDATA',
] as const;

export function pickEnv(
  env: Readonly<Record<string, string | undefined>>,
  keys: readonly string[],
): Record<string, string> {
  return Object.fromEntries(
    keys.flatMap((key) => (env[key] === undefined ? [] : [[key, env[key]]])),
  );
}

export interface ShellOptions {
  /** The variables every command starts with (PATH, HOME, …); params.env is laid over them. */
  readonly baseEnv: Readonly<Record<string, string>>;
}

export function createShellWorkflow({ baseEnv }: ShellOptions) {
  return defineWorkflow({
    name: 'shell',
    description:
      'Runs a program without a shell. Output lines become task logs; a line "::progress N [step]" sets progress.',
    paramsSchema: Type.Object(
      {
        command: Type.String({ minLength: 1, maxLength: 4096 }),
        args: Type.Optional(
          Type.Array(Type.String({ maxLength: 65_536 }), { maxItems: 1000, default: [] }),
        ),
        cwd: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
        env: Type.Optional(Type.Record(Type.String({ pattern: '^[^=\\0]+$' }), Type.String())),
      },
      { additionalProperties: false },
    ),
    async run({ params, signal, log, progress }) {
      signal.throwIfAborted();
      const child = spawn(params.command, params.args ?? [], {
        cwd: params.cwd,
        env: { ...baseEnv, ...params.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
      // The command may have started children of its own: kill the whole tree, at once.
      const killTree = () => {
        if (child.pid !== undefined) treeKill(child.pid, 'SIGKILL');
      };
      signal.addEventListener('abort', killTree, { once: true });

      const stderrTail = new Tail(20);
      const stdoutTail = new Tail(100);
      const pump = (stream: NodeJS.ReadableStream, name: LogStream, tail: Tail) =>
        (async () => {
          for await (const line of readline.createInterface({
            input: stream,
            crlfDelay: Infinity,
          })) {
            const update = parseProgressLine(line);
            if (update) {
              void progress(update.percent, update.step);
              continue;
            }
            tail.push(line);
            log(line, name);
          }
        })();

      try {
        const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
          child.on('close', (code, sig) => resolve([code, sig])),
        );
        const spawned = once(child, 'spawn');
        try {
          await spawned;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          throw new TaskFailure(
            code === 'ENOENT'
              ? `Command not found: ${params.command}`
              : `Cannot start ${params.command}: ${(err as Error).message}`,
            code === 'ENOENT' ? 'COMMAND_NOT_FOUND' : 'SPAWN_FAILED',
          );
        }
        await Promise.all([
          pump(child.stdout, 'stdout', stdoutTail),
          pump(child.stderr, 'stderr', stderrTail),
        ]);
        const [exitCode, exitSignal] = await exited;
        signal.throwIfAborted();
        if (exitCode !== 0) {
          const how =
            exitCode === null ? `was killed by ${exitSignal}` : `exited with code ${exitCode}`;
          const tail = stderrTail.text();
          throw new TaskFailure(
            `${params.command} ${how}${tail ? `:\n${tail}` : ''}`,
            exitCode === null ? 'KILLED' : 'EXIT_CODE',
          );
        }
        return { exitCode, stdoutTail: stdoutTail.text() };
      } finally {
        signal.removeEventListener('abort', killTree);
      }
    },
  });
}
