// Child processes for the tooling scripts: run to completion, capture output, never a shell.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the command could not be started at all (ENOENT, EBADARCH, …). */
  readonly spawnError?: NodeJS.ErrnoException;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Append stdout and stderr to this file instead of keeping them in memory. */
  readonly logFile?: string;
  /** Inherit stdio: the user sees the output as it happens. */
  readonly inherit?: boolean;
}

export function run(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const log = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: opts.inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      if (log) log.write(d);
      else stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      if (log) log.write(d);
      else stderr += d.toString();
    });
    let settled = false;
    const finish = (result: RunResult) => {
      if (settled) return;
      settled = true;
      if (log) log.end(() => resolve(result));
      else resolve(result);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      finish({ code: null, stdout, stderr, spawnError: err });
    });
    child.on('close', (code) => finish({ code, stdout, stderr }));
  });
}

/** Runs and throws with the command's own output when it fails. */
export async function runOrThrow(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const why = r.spawnError ? r.spawnError.message : `exit code ${r.code}`;
    const out = `${r.stdout}${r.stderr}`.trim().split('\n').slice(-20).join('\n');
    const log = opts.logFile ? ` (log: ${opts.logFile})` : '';
    throw new Error(`${cmd} ${args.join(' ')} failed: ${why}${log}${out ? `\n${out}` : ''}`);
  }
  return r;
}

export async function commandExists(cmd: string): Promise<boolean> {
  const probe = process.platform === 'win32' ? 'where' : 'sh';
  const args = process.platform === 'win32' ? [cmd] : ['-c', `command -v "${cmd}"`];
  const r = await run(probe, args);
  return r.code === 0;
}
