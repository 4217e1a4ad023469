import type { Command } from 'commander';
import { type ApiClient, createApiClient } from './api-client.ts';
import { resolveConnection } from './connection.ts';
import { createOutput, type Output, type OutputMode, type Stream } from './output.ts';

export interface CliIo {
  readonly stdout: Stream;
  readonly stderr: Stream;
  readonly stdin: AsyncIterable<string | Uint8Array> & { readonly isTTY?: boolean };
}

/** What bin.ts read from the environment (flags of the command line win over it). */
export interface CliSettings {
  /** TASKDOCK_URL. */
  readonly url: string | undefined;
  /** TASKDOCK_TOKEN. */
  readonly token: string | undefined;
  /** TASKDOCK_DATA_DIR, else the OS default the app uses. */
  readonly dataDir: string;
  /** stdout is a TTY and NO_COLOR is not set. */
  readonly color: boolean;
  /** The environment `work` runs its command in (its own minus the Taskdock secrets). */
  readonly childEnv: Readonly<Record<string, string>>;
}

export interface CliContext {
  readonly io: CliIo;
  readonly settings: CliSettings;
  /** Aborted on SIGINT/SIGTERM: long commands stop, `work` releases its leases. */
  readonly signal: AbortSignal;
  /** This process (the default worker id of `work`). */
  readonly pid: number;
}

interface GlobalOptions {
  output: OutputMode;
  url?: string;
  token?: string;
}

/** One command's run: its output mode and, when it needs one, the API. */
export interface Session {
  readonly ctx: CliContext;
  readonly out: Output;
  api(): Promise<ApiClient>;
  /** All of stdin as text (`--params-file -`). */
  readStdin(): Promise<string>;
  /** The workflow's params schema (undefined for a workflow the API does not list). */
  paramsSchema(workflow: string): Promise<unknown>;
}

function sessionOf(ctx: CliContext, command: Command): Session {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const out = createOutput({
    mode: globals.output,
    stdout: ctx.io.stdout,
    stderr: ctx.io.stderr,
    color: ctx.settings.color,
  });
  let api: Promise<ApiClient> | undefined;
  return {
    ctx,
    out,
    async paramsSchema(workflow) {
      const { items } = await (await this.api()).workflows();
      return items.find((w) => w.name === workflow)?.paramsSchema;
    },
    api() {
      api ??= resolveConnection({
        url: globals.url ?? ctx.settings.url,
        token: globals.token ?? ctx.settings.token,
        dataDir: ctx.settings.dataDir,
      }).then((connection) => createApiClient(connection, ctx.signal));
      return api;
    },
    async readStdin() {
      let text = '';
      for await (const chunk of ctx.io.stdin) {
        text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      }
      return text;
    },
  };
}

/** A commander action that returns the exit code; the last one run is the process's. */
export function action<Args extends unknown[]>(
  ctx: CliContext,
  exit: { code: number },
  run: (session: Session, ...args: Args) => Promise<number>,
) {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    exit.code = await run(sessionOf(ctx, command), ...(args.slice(0, -1) as Args));
  };
}
