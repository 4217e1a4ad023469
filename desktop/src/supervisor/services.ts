import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readiness } from '@taskdock/shared/contract';
import { canListen, freePort } from '@taskdock/shared/node/ports';
import { commandLine, isAlive, killTree, waitForExit } from '@taskdock/shared/node/processes';
import { probeBackend } from './backend-probe.ts';
import type { LogStore } from './logs.ts';
import { type RedisTarget, ReplyError, redisPing, redisShutdown } from './redis-client.ts';
import {
  describeEarlyExit,
  type ExitInfo,
  type ServiceRun,
  type ServiceSpec,
} from './supervisor.ts';

const HOST = '127.0.0.1';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const lastMatching = (lines: readonly string[], pattern: RegExp) =>
  [...lines].reverse().find((line) => pattern.test(line));

/** Quotes a value for redis.conf (double quotes, backslash escapes: Windows paths survive). */
const confString = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

// ---------------------------------------------------------------------------------------------
// redis

export interface RedisServiceOptions {
  /** The redis-server binary (see paths.ts resolveRedisServer). */
  readonly binary: string;
  /** `<dataDir>/redis`: config, AOF, RDB, pidfile. */
  readonly dir: string;
  /** OS variables redis-server needs (e.g. SystemRoot on Windows). */
  readonly osEnv: Readonly<Record<string, string>>;
  readonly logs: LogStore;
  /** Loading a large AOF takes time: the gate waits this long (default 60 s). */
  readonly readyTimeoutMs?: number;
  readonly stopGraceMs?: number;
}

export interface RedisService extends ServiceSpec {
  /** `redis://:password@127.0.0.1:port` (after the first prepare). */
  url(): string;
  target(): RedisTarget;
  /**
   * Whether the last failed start was about its data (a corrupt AOF, an unusable directory):
   * then memory mode would hide the user's durable tasks, so there is no fallback to it.
   */
  refusedItsData(): boolean;
}

const redisFiles = (dir: string) => ({
  conf: path.join(dir, 'redis.conf'),
  pidfile: path.join(dir, 'redis.pid'),
  aofDir: path.join(dir, 'appendonlydir'),
});

export function renderRedisConfig(options: {
  dir: string;
  port: number;
  password: string;
}): string {
  const files = redisFiles(options.dir);
  return [
    '# Written by the Taskdock supervisor at every start: edits here are overwritten.',
    `bind ${HOST}`,
    `port ${options.port}`,
    'protected-mode yes',
    `requirepass ${confString(options.password)}`,
    `dir ${confString(options.dir)}`,
    `pidfile ${confString(files.pidfile)}`,
    'daemonize no',
    'logfile ""',
    'loglevel notice',
    // Durability: every write in the AOF (fsync once a second), plus RDB snapshots.
    'appendonly yes',
    'appendfsync everysec',
    'save 900 1',
    'save 300 10',
    'save 60 10000',
    'dbfilename dump.rdb',
    // BullMQ requires that Redis never evicts keys.
    'maxmemory-policy noeviction',
    '',
  ].join('\n');
}

/** Reads port and password back from an earlier run's redis.conf. */
async function readRedisConfig(file: string): Promise<RedisTarget | null> {
  try {
    const text = await readFile(file, 'utf8');
    const port = /^port (\d+)$/m.exec(text)?.[1];
    const password = /^requirepass "((?:[^"\\]|\\.)*)"$/m.exec(text)?.[1]?.replace(/\\(.)/g, '$1');
    return port ? { host: HOST, port: Number(port), password } : null;
  } catch {
    return null;
  }
}

/**
 * A redis-server left running by an earlier run whose supervisor was killed (its pidfile is
 * still there): asked to `SHUTDOWN SAVE` with the password of that run's config, killed if it
 * does not go. A pid that now belongs to another program is left alone.
 */
export async function cleanupStaleRedis(dir: string, logs: LogStore): Promise<void> {
  const files = redisFiles(dir);
  let pid: number;
  try {
    pid = Number((await readFile(files.pidfile, 'utf8')).trim());
  } catch {
    return;
  }
  if (Number.isSafeInteger(pid) && pid > 1 && isAlive(pid)) {
    const command = commandLine(pid);
    if (command === '' || command.includes('redis')) {
      logs.system('redis', 'warn', `stopping redis-server pid ${pid} left over by an earlier run`);
      const target = await readRedisConfig(files.conf);
      if (target) await redisShutdown(target, 10_000).catch(() => {});
      if (!(await waitForExit(pid, 10_000))) {
        logs.system('redis', 'warn', `pid ${pid} ignored SHUTDOWN; killing it`);
        await killTree(pid, 'SIGKILL');
        await waitForExit(pid, 5000);
      }
    }
  }
  await rm(files.pidfile, { force: true });
}

export function createRedisService(options: RedisServiceOptions): RedisService {
  const files = redisFiles(options.dir);
  // Hex: safe in a URL and in redis.conf without escaping.
  const password = randomBytes(24).toString('hex');
  let port: number | undefined;
  let dataProblem = false;
  const target = (): RedisTarget => ({ host: HOST, port: port as number, password });

  return {
    name: 'redis',
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    stopGraceMs: options.stopGraceMs ?? 15_000,
    url: () => `redis://:${password}@${HOST}:${port}`,
    target,
    refusedItsData: () => dataProblem,
    describe: () => `${HOST}:${port}`,

    async prepare({ restart, attempt }) {
      await mkdir(options.dir, { recursive: true, mode: 0o700 });
      if (!restart && attempt === 1) await cleanupStaleRedis(options.dir, options.logs);
      // The port stays the same across restarts: the worker and backend reconnect to it.
      if (port === undefined || (!restart && attempt > 1)) port = await freePort(HOST);
      await writeFile(files.conf, renderRedisConfig({ dir: options.dir, port, password }), {
        mode: 0o600,
      });
      return {
        command: options.binary,
        args: [files.conf],
        env: { ...options.osEnv },
        cwd: options.dir,
      };
    },

    async waitHealthy({ signal, note }) {
      while (!signal.aborted) {
        try {
          await redisPing(target(), 1000);
          return;
        } catch (err) {
          const message = (err as Error).message;
          if (err instanceof ReplyError && /WRONGPASS|invalid password|NOAUTH/i.test(message)) {
            throw new Error(
              `another server answers on ${HOST}:${port} and refuses our password (${message})`,
            );
          }
          note(message);
        }
        await sleep(50);
      }
    },

    async requestStop(run) {
      try {
        await redisShutdown(target(), Math.max(1000, (options.stopGraceMs ?? 15_000) - 1000));
      } catch (err) {
        options.logs.system(
          'redis',
          'warn',
          `SHUTDOWN SAVE failed (${(err as Error).message}); sending SIGTERM`,
        );
        run.child.kill('SIGTERM');
      }
    },

    explainEarlyExit(exit, lines) {
      const aof = lastMatching(
        lines,
        /append only file|append-only file|appendonly|\bAOF\b|manifest|Bad file format/i,
      );
      if (aof && /bad|corrupt|truncat|unexpected|unrecoverable|invalid|error/i.test(aof)) {
        dataProblem = true;
        return (
          `Redis refused to load its append-only file in ${files.aofDir} ("${aof}"). Repair it ` +
          `with "redis-check-aof --fix" on the file it names, or move ${files.aofDir} away to ` +
          'start empty (queued tasks would be lost).'
        );
      }
      const inUse = lastMatching(lines, /Address already in use|Could not create server TCP/i);
      if (inUse) return `port ${port} on ${HOST} is already in use ("${inUse}")`;
      const denied = lastMatching(
        lines,
        /Permission denied|Can't chdir|Can't open|Failed opening|Read-only/i,
      );
      if (denied) {
        dataProblem = true;
        return `Redis cannot use its data directory ${options.dir} ("${denied}"). Fix its permissions or choose another TASKDOCK_DATA_DIR.`;
      }
      const config = lastMatching(
        lines,
        /FATAL CONFIG FILE ERROR|Bad directive|wrong number of arguments/i,
      );
      if (config) {
        return `${options.binary} rejected the configuration Taskdock wrote ("${config}"); it needs Redis 6.2 or newer.`;
      }
      return describeStart(exit, lines);
    },

    shouldRetryStart: (lines) => lines.some((l) => /Address already in use/i.test(l)),

    async afterExit(run) {
      // A clean SHUTDOWN removes the pidfile; a crash leaves it: remove it if it is this run's.
      const recorded = await readFile(files.pidfile, 'utf8').catch(() => '');
      if (Number(recorded.trim()) === run.pid) await rm(files.pidfile, { force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// worker and backend

const describeStart = describeEarlyExit;

function explainNodeExit(exit: ExitInfo, lines: readonly string[]): string {
  if (exit.code === 78) {
    const at = lines.findIndex((l) => l.startsWith('Invalid configuration'));
    return `rejected its configuration: ${(at >= 0 ? lines.slice(at) : lines).join(' ')}`;
  }
  return describeStart(exit, lines);
}

/** What a Node service is launched with; `env` is complete (the child gets nothing else). */
export interface NodeServiceOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** Evaluated at each start (the Redis URL is known only once redis is prepared). */
  readonly env: () => Record<string, string>;
  /** Likewise; handed over on a pipe, never in env (LaunchPlan.secrets). */
  readonly secrets: () => Record<string, string>;
  readonly cwd: string;
  readonly readyTimeoutMs?: number;
  readonly stopGraceMs?: number;
}

/** SIGTERM where signals exist, and the IPC stop message (the only polite way on Windows). */
async function politeStop(run: ServiceRun): Promise<void> {
  if (run.child.connected) run.child.send({ type: 'taskdock:stop' }, () => {});
  if (process.platform !== 'win32') run.child.kill('SIGTERM');
}

/** The worker: ready once it logged "worker ready" (after its heartbeat is registered in Redis). */
export function createWorkerService(
  options: NodeServiceOptions & {
    /** Which of several worker processes (TASKDOCK_WORKER_PROCESSES), each supervised alone. */
    readonly instance?: number;
  },
): ServiceSpec {
  return {
    name: 'worker',
    ...(options.instance === undefined ? {} : { instance: options.instance }),
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    stopGraceMs: options.stopGraceMs ?? 15_000,
    async prepare() {
      return {
        command: options.command,
        args: options.args,
        env: options.env(),
        secrets: options.secrets(),
        cwd: options.cwd,
        ipc: true,
      };
    },
    async waitHealthy({ run, signal, note }) {
      note('waiting for "worker ready"');
      await run.waitForLine((line) => line.text === 'worker ready', signal);
    },
    requestStop: politeStop,
    explainEarlyExit: explainNodeExit,
  };
}

export interface BackendServiceOptions extends NodeServiceOptions {
  /** TASKDOCK_PORT; 0 picks a free port once and keeps it across restarts. */
  readonly port: number;
  /** The port of the previous run (`<dataDir>/backend-port`), tried first when port is 0. */
  readonly lastPort?: number | undefined;
  /** Where a note about the port choice goes (the supervisor's log). */
  readonly note?: (message: string) => void;
  readonly token: string;
  /**
   * Whether readiness waits for a live worker (default). An `api` host's workers run on other
   * hosts and may start later: it is ready once its Redis answers.
   */
  readonly needsWorker?: boolean;
  /** Called right after each spawn: the supervisor's side of the IPC channel. */
  readonly attach?: (run: ServiceRun) => void;
  /** TASKDOCK_TLS_CERT: the backend serves https; the health gate trusts this certificate. */
  readonly tlsCertFile?: string | undefined;
}

/** A /api/health/ready body that says the store answers (it may still lack a worker). */
function redisAnswers(body: string): boolean {
  try {
    return (JSON.parse(body) as Readiness).redis?.ok === true;
  } catch {
    return false;
  }
}

export interface BackendService extends ServiceSpec {
  /** `http(s)://127.0.0.1:<port>` (after the first prepare): https with TLS files. */
  url(): string;
}

/** The API: ready once GET /api/health/ready answers 200 (Redis answers, a worker is alive). */
export function createBackendService(options: BackendServiceOptions): BackendService {
  const fixedPort = options.port > 0;
  let port = fixedPort ? options.port : undefined;
  const scheme = options.tlsCertFile ? 'https' : 'http';
  return {
    name: 'backend',
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    stopGraceMs: options.stopGraceMs ?? 10_000,
    url: () => `${scheme}://${HOST}:${port}`,
    describe: () => `${scheme}://${HOST}:${port}`,
    async prepare({ restart, attempt }) {
      // Kept across restarts, so an open window or a printed sign-in link keeps working.
      if (port === undefined && !fixedPort && options.lastPort !== undefined) {
        if (await canListen(options.lastPort, HOST)) port = options.lastPort;
        else {
          port = await freePort(HOST);
          options.note?.(
            `port ${options.lastPort} of the last run is taken by another program; using ${port} ` +
              '(open tabs and bookmarks need the new address)',
          );
        }
      } else if (port === undefined || (!fixedPort && !restart && attempt > 1)) {
        port = await freePort(HOST);
      }
      return {
        command: options.command,
        args: options.args,
        env: { ...options.env(), TASKDOCK_PORT: String(port) },
        secrets: { ...options.secrets(), TASKDOCK_TOKEN: options.token },
        cwd: options.cwd,
        ipc: true,
      };
    },
    async waitHealthy({ signal, note }) {
      while (!signal.aborted) {
        try {
          const response = await probeBackend(
            `${scheme}://${HOST}:${port}/api/health/ready`,
            options.token,
            AbortSignal.any([signal, AbortSignal.timeout(2000)]),
            options.tlsCertFile,
          );
          const { body } = response;
          if (response.status === 200) return;
          if (options.needsWorker === false && response.status === 503 && redisAnswers(body)) {
            return;
          }
          if (response.status === 401) {
            throw new Error(`something else answers on ${HOST}:${port} and refuses our token`);
          }
          note(`GET /api/health/ready: ${response.status} ${body.slice(0, 200)}`);
        } catch (err) {
          if ((err as Error).message.startsWith('something else')) throw err;
          const cause = (err as { code?: string }).code;
          note(`GET /api/health/ready: ${cause ?? (err as Error).message}`);
        }
        await sleep(100);
      }
    },
    requestStop: politeStop,
    attach: options.attach,
    explainEarlyExit(exit, lines) {
      if (lines.some((l) => /EADDRINUSE/.test(l))) {
        return fixedPort
          ? `port ${port} (TASKDOCK_PORT) is already in use by another program: free it or choose another port`
          : `port ${port} was taken by another program before the backend could listen on it`;
      }
      return explainNodeExit(exit, lines);
    },
    shouldRetryStart: (lines) => !fixedPort && lines.some((l) => /EADDRINUSE/.test(l)),
  };
}
