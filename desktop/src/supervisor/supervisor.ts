import { type ChildProcess, spawn } from 'node:child_process';
import {
  SERVICE_NAMES,
  type ServiceExit,
  type ServiceInfo,
  type ServiceLogLevel,
  type ServiceLogLine,
  type ServiceName,
  type ServiceStatus,
} from '@taskdock/shared/contract';
import { descendants, isAlive, killTree } from '@taskdock/shared/node/processes';
import type { LogStore } from './logs.ts';

/** How to run one process of a service. Built from scratch each time: never `process.env`. */
export interface LaunchPlan {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Open an IPC channel (Node services: parent watch, polite stop, the backend's supervision). */
  readonly ipc?: boolean;
  /**
   * Written as JSON to a pipe the child inherits (its fd number in TASKDOCK_SECRETS_FD), then
   * closed: unlike env and args, /proc/<pid>/environ and cmdline never show them.
   */
  readonly secrets?: Readonly<Record<string, string>>;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  readonly error?: Error;
}

/** One process of a service, from spawn to exit. */
export interface ServiceRun {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Settles once the process has exited and its output is drained (last words included). */
  readonly exited: Promise<ExitInfo>;
  hasExited(): boolean;
  /** The first line this run prints that matches; rejects when `signal` aborts. */
  waitForLine(
    match: (line: ServiceLogLine) => boolean,
    signal: AbortSignal,
  ): Promise<ServiceLogLine>;
}

export interface HealthProbe {
  readonly run: ServiceRun;
  /** Aborted when the process exits, the gate times out or the supervisor stops. */
  readonly signal: AbortSignal;
  /** Why the last check failed; quoted if the gate times out. */
  note(reason: string): void;
}

export interface ServiceSpec {
  readonly name: ServiceName;
  /** Which of several processes of this service (worker 1 … N); undefined when there is one. */
  readonly instance?: number;
  /** How long the health gate waits before the start counts as failed. */
  readonly readyTimeoutMs: number;
  /** How long a graceful stop may take before the process tree is killed. */
  readonly stopGraceMs: number;
  /** Before each start: clean up, write config, pick ports. Throws an actionable Error. */
  prepare(context: { restart: boolean; attempt: number }): Promise<LaunchPlan>;
  /** Resolves once the service is healthy; rejects for a failure no waiting can fix. */
  waitHealthy(probe: HealthProbe): Promise<void>;
  /** Asks the process to stop gracefully (SIGTERM, SHUTDOWN SAVE, an IPC message …). */
  requestStop(run: ServiceRun): Promise<void>;
  /** An actionable message for a process that ended before it was healthy. */
  explainEarlyExit?(exit: ExitInfo, lastLines: readonly string[]): string | undefined;
  /** Whether a failed start is worth one more try at once (e.g. its free port was taken). */
  shouldRetryStart?(lastLines: readonly string[]): boolean;
  /** Called right after spawn, before the health gate (e.g. to answer on the IPC channel). */
  attach?(run: ServiceRun): void;
  /** Detail for the ready event, e.g. "127.0.0.1:43121". */
  describe?(): string;
  /** After every exit of a run (crash, stop or failed start): remove what it leaves behind. */
  afterExit?(run: ServiceRun): Promise<void>;
}

export interface RestartPolicy {
  /** Restarts allowed within `windowMs`; one more crash marks the service failed. */
  readonly maxRestarts: number;
  readonly windowMs: number;
  /** Delay before the first restart; doubled for each crash in the window. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxRestarts: 5,
  windowMs: 60_000,
  initialDelayMs: 500,
  maxDelayMs: 15_000,
};

interface EventBase {
  readonly service: ServiceName;
  /** Set for one of several processes of a service (ServiceSpec.instance). */
  readonly instance?: number;
  /** Epoch ms. */
  readonly at: number;
  /** Ms since `start()` was called. */
  readonly sinceStartMs: number;
}

export type SupervisorEvent =
  | (EventBase & { readonly type: 'starting'; readonly attempt: number; readonly restart: boolean })
  | (EventBase & {
      readonly type: 'ready';
      readonly pid: number;
      readonly durationMs: number;
      readonly detail?: string;
    })
  | (EventBase & {
      readonly type: 'failed';
      readonly reason: string;
      readonly lastLines: readonly string[];
    })
  | (EventBase & {
      readonly type: 'restarting';
      readonly reason: string;
      readonly delayMs: number;
      readonly restarts: number;
    })
  | (EventBase & {
      readonly type: 'stopped';
      readonly durationMs: number;
      readonly code: number | null;
      readonly signal: string | null;
      /** The graceful stop did not finish within the grace period: the tree was killed. */
      readonly forced: boolean;
    });

export type SupervisorEventType = SupervisorEvent['type'];

/** Startup failed at one service: `reason` says why in words a user can act on. */
export class StartupError extends Error {
  constructor(
    readonly service: ServiceName | 'supervisor',
    readonly reason: string,
    readonly lastLines: readonly string[] = [],
  ) {
    super(`${service} failed to start: ${reason}`);
    this.name = 'StartupError';
  }
}

class StartAborted extends Error {
  constructor() {
    super('start aborted: the supervisor is stopping');
  }
}

class ServiceStartFailure extends Error {
  constructor(
    readonly reason: string,
    readonly lastLines: readonly string[],
  ) {
    super(reason);
  }
}

interface ServiceState {
  readonly spec: ServiceSpec;
  status: ServiceStatus;
  run: ServiceRun | undefined;
  restarts: number;
  crashes: number[];
  startedAt: number | null;
  readyAt: number | null;
  lastExit: ServiceExit | null;
  message: string | undefined;
  restartTimer: NodeJS.Timeout | undefined;
}

export interface SupervisorOptions {
  /** In start order; stopped in reverse. */
  readonly services: readonly ServiceSpec[];
  readonly logs: LogStore;
  readonly restart?: Partial<RestartPolicy>;
  /**
   * Services this supervisor does not run: `external` (redis with TASKDOCK_REDIS_URL) or
   * `unused` (redis and worker in memory mode), with the reason shown beside them.
   */
  readonly outside?: readonly OutsideService[];
}

export interface OutsideService {
  readonly name: ServiceName;
  readonly status: 'external' | 'unused';
  readonly message?: string;
}

type WithoutTime<T> = T extends unknown ? Omit<T, 'at' | 'sinceStartMs'> : never;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export function describeExit(exit: ExitInfo): string {
  if (exit.error) return `could not be run (${exit.error.message})`;
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

/** "exited with code 3 before it was ready (last output: "…")": the service's last own line. */
export function describeEarlyExit(exit: ExitInfo, lastLines: readonly string[]): string {
  const last = [...lastLines].reverse().find((l) => l.trim() && !l.startsWith('[supervisor]'));
  return `${describeExit(exit)} before it was ready${last ? ` (last output: "${last}")` : ''}`;
}

const instanceOf = (spec: ServiceSpec) =>
  spec.instance === undefined ? {} : { instance: spec.instance };

/** "worker 2" for one of several, else the service's name. */
export const serviceLabel = (spec: Pick<ServiceSpec, 'name' | 'instance'>) =>
  spec.instance === undefined ? spec.name : `${spec.name} ${spec.instance}`;

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/**
 * Runs services in order, each gated on its health check; restarts crashed ones with
 * exponential backoff until too many crashes in a window; stops them in reverse order,
 * gracefully and then by killing the process tree. Plain Node: no Electron in here.
 */
export class Supervisor {
  private readonly states: ServiceState[];
  private readonly outside: readonly OutsideService[];
  private readonly policy: RestartPolicy;
  private readonly logs: LogStore;
  private readonly eventListeners = new Set<(event: SupervisorEvent) => void>();
  private readonly changeListeners = new Set<(services: ServiceInfo[]) => void>();
  private readonly aborts = new Set<AbortController>();
  private readonly launches = new Set<Promise<unknown>>();
  private startedAt = Date.now();
  private stopping = false;
  private stopPromise: Promise<void> | undefined;

  constructor(options: SupervisorOptions) {
    const names = options.services.map(serviceLabel);
    if (new Set(names).size !== names.length) {
      throw new Error(`Supervisor: service names must be unique, got ${names.join(', ')}`);
    }
    this.policy = { ...DEFAULT_RESTART_POLICY, ...options.restart };
    if (
      this.policy.maxRestarts < 0 ||
      this.policy.initialDelayMs < 0 ||
      this.policy.windowMs <= 0
    ) {
      throw new Error('Supervisor: restart policy needs maxRestarts ≥ 0, delays ≥ 0, windowMs > 0');
    }
    this.logs = options.logs;
    this.outside = options.outside ?? [];
    this.states = options.services.map((spec) => ({
      spec,
      status: 'pending',
      run: undefined,
      restarts: 0,
      crashes: [],
      startedAt: null,
      readyAt: null,
      lastExit: null,
      message: undefined,
      restartTimer: undefined,
    }));
  }

  /** Typed lifecycle events (for a splash screen or the terminal); returns the unsubscribe. */
  onEvent(listener: (event: SupervisorEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Called with the new snapshot whenever a status, pid or restart count changes. */
  onChange(listener: (services: ServiceInfo[]) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  services(): ServiceInfo[] {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    const outside = this.outside.map(
      ({ name, status, message }): ServiceInfo => ({
        name,
        status,
        pid: null,
        restarts: 0,
        startedAt: null,
        readyAt: null,
        lastExit: null,
        ...(message === undefined ? {} : { message }),
      }),
    );
    const own = this.states.map((s): ServiceInfo => {
      const info: ServiceInfo = {
        name: s.spec.name,
        ...instanceOf(s.spec),
        status: s.status,
        pid: s.run && !s.run.hasExited() ? s.run.pid : null,
        restarts: s.restarts,
        startedAt: iso(s.startedAt),
        readyAt: iso(s.readyAt),
        lastExit: s.lastExit,
      };
      if (s.message !== undefined) info.message = s.message;
      return info;
    });
    const order = (info: ServiceInfo) => SERVICE_NAMES.indexOf(info.name);
    return [...outside, ...own].sort((a, b) => order(a) - order(b));
  }

  /** The pid of the service's (first) process while it runs. */
  pid(name: ServiceName): number | null {
    return this.pids(name)[0] ?? null;
  }

  /** The pids of every running process of the service (several workers: one each). */
  pids(name: ServiceName): number[] {
    return this.states.flatMap((s) =>
      s.spec.name === name && s.run && !s.run.hasExited() ? [s.run.pid] : [],
    );
  }

  /** Starts every service in order; on the first failure stops the others and throws StartupError. */
  async start(): Promise<void> {
    this.startedAt = Date.now();
    for (const state of this.states) {
      try {
        await this.track(this.launch(state, false));
      } catch (err) {
        if (err instanceof StartAborted || this.stopping) {
          await this.stop();
          throw new StartupError(state.spec.name, 'startup was cancelled: stopping');
        }
        const failure =
          err instanceof ServiceStartFailure
            ? err
            : new ServiceStartFailure((err as Error).message, []);
        this.fail(state, failure.reason, failure.lastLines);
        await this.stop();
        throw new StartupError(state.spec.name, failure.reason, failure.lastLines);
      }
    }
  }

  /** Stops every service in reverse order (idempotent; also cancels a start in progress). */
  stop(): Promise<void> {
    this.stopPromise ??= this.stopAll();
    return this.stopPromise;
  }

  /**
   * Stops a running service politely and starts it again (a setting it reads at start changed):
   * not a crash, so no backoff and no crash counted. A start that fails is handled as a crash.
   */
  async restart(name: ServiceName): Promise<void> {
    const states = this.states.filter((s) => s.spec.name === name && s.status === 'running');
    for (const state of states) {
      if (this.stopping) return;
      this.note(state.spec, 'info', 'restarting on request');
      await this.stopService(state);
      if (this.stopping) return;
      state.restarts++;
      await this.track(this.launch(state, true)).catch((err: Error) => {
        if (err instanceof StartAborted || this.stopping) return;
        this.crashed(state, `failed to restart: ${err.message}`, null);
      });
    }
  }

  private async stopAll(): Promise<void> {
    this.stopping = true;
    for (const controller of this.aborts) controller.abort();
    for (const state of this.states) clearTimeout(state.restartTimer);
    await Promise.allSettled([...this.launches]);
    // In reverse order; several processes of one service stop together.
    const groups: ServiceState[][] = [];
    for (const state of [...this.states].reverse()) {
      const last = groups.at(-1);
      if (last?.[0]?.spec.name === state.spec.name) last.push(state);
      else groups.push([state]);
    }
    for (const group of groups) await Promise.all(group.map((state) => this.stopService(state)));
    this.changed();
  }

  private async stopService(state: ServiceState): Promise<void> {
    const run = state.run;
    if (!run || run.hasExited()) {
      if (state.status !== 'failed') state.status = 'stopped';
      return;
    }
    const { spec } = state;
    const began = Date.now();
    state.status = 'stopping';
    this.changed();
    // Remember the tree now: once the process is gone its children can no longer be found.
    const tree = await descendants(run.pid);
    void spec
      .requestStop(run)
      .catch((err: Error) =>
        this.note(spec, 'warn', `graceful stop failed: ${err.message}; waiting`),
      );
    const outcome = await Promise.race([
      run.exited.then(() => 'exited' as const),
      sleep(spec.stopGraceMs).then(() => 'grace-over' as const),
    ]);
    const forced = outcome === 'grace-over';
    if (forced) {
      this.note(
        spec,
        'warn',
        `did not stop within ${seconds(spec.stopGraceMs)}; killing its process tree`,
      );
      await killTree(run.pid, 'SIGKILL');
    }
    const exit = await Promise.race([run.exited, sleep(5000).then(() => null)]);
    for (const pid of tree) {
      if (isAlive(pid)) {
        this.note(spec, 'warn', `killing leftover child process ${pid}`);
        await killTree(pid, 'SIGKILL');
      }
    }
    state.status = 'stopped';
    this.changed();
    this.emit({
      type: 'stopped',
      service: spec.name,
      ...instanceOf(spec),
      durationMs: Date.now() - began,
      code: exit?.code ?? null,
      signal: exit?.signal ?? null,
      forced,
    });
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.launches.add(promise);
    const forget = () => this.launches.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /** Start → health gate → ready; throws ServiceStartFailure (or StartAborted). */
  private async launch(state: ServiceState, restart: boolean): Promise<void> {
    const { spec } = state;
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) throw new StartAborted();
      const began = Date.now();
      state.status = 'starting';
      state.message = undefined;
      this.emit({ type: 'starting', service: spec.name, ...instanceOf(spec), attempt, restart });
      this.changed();

      let plan: LaunchPlan;
      try {
        plan = await spec.prepare({ restart, attempt });
      } catch (err) {
        throw new ServiceStartFailure((err as Error).message, []);
      }
      if (this.stopping) throw new StartAborted();
      const run = this.spawnRun(spec, plan);
      state.run = run;
      state.startedAt = Date.now();
      state.readyAt = null;
      this.changed();

      const outcome = await this.gate(spec, run);
      if (outcome.kind === 'ready') {
        state.status = 'running';
        state.readyAt = Date.now();
        const detail = spec.describe?.();
        this.note(
          spec,
          'info',
          `ready in ${Date.now() - began} ms (pid ${run.pid}${detail ? `, ${detail}` : ''})`,
        );
        this.emit({
          type: 'ready',
          service: spec.name,
          ...instanceOf(spec),
          pid: run.pid,
          durationMs: Date.now() - began,
          ...(detail ? { detail } : {}),
        });
        this.changed();
        void run.exited.then((exit) => this.onExit(state, run, exit));
        return;
      }

      if (!run.hasExited()) await killTree(run.pid, 'SIGKILL');
      const exit = await run.exited;
      if (this.stopping) throw new StartAborted();
      const lastLines = this.logs.tail(spec.name, 15, undefined, spec.instance);
      let reason: string;
      if (outcome.kind === 'exited') {
        reason = spec.explainEarlyExit?.(exit, lastLines) ?? describeEarlyExit(exit, lastLines);
      } else if (outcome.kind === 'timeout') {
        reason = `did not become healthy within ${seconds(spec.readyTimeoutMs)}${
          outcome.note ? ` (last check: ${outcome.note})` : ''
        }`;
      } else {
        reason = outcome.error.message;
      }
      this.note(spec, 'error', `start failed: ${reason}`);
      if (attempt < 3 && spec.shouldRetryStart?.(lastLines)) {
        this.note(spec, 'warn', 'retrying the start with a fresh configuration');
        continue;
      }
      throw new ServiceStartFailure(reason, lastLines);
    }
  }

  private async gate(
    spec: ServiceSpec,
    run: ServiceRun,
  ): Promise<
    | { kind: 'ready' }
    | { kind: 'exited' }
    | { kind: 'timeout'; note: string }
    | { kind: 'error'; error: Error }
  > {
    const controller = new AbortController();
    this.aborts.add(controller);
    let note = '';
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        spec
          .waitHealthy({
            run,
            signal: controller.signal,
            note: (reason) => {
              note = reason;
            },
          })
          .then(
            () => ({ kind: 'ready' as const }),
            (error: Error) =>
              run.hasExited() || controller.signal.aborted
                ? new Promise<never>(() => {})
                : { kind: 'error' as const, error },
          ),
        run.exited.then(() => ({ kind: 'exited' as const })),
        new Promise<{ kind: 'timeout'; note: string }>((resolve) => {
          timer = setTimeout(() => resolve({ kind: 'timeout', note }), spec.readyTimeoutMs);
        }),
        new Promise<{ kind: 'exited' }>((resolve) => {
          // Stopping: settle as if it exited; launch() sees `stopping` and aborts.
          controller.signal.addEventListener('abort', () => resolve({ kind: 'exited' }), {
            once: true,
          });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      controller.abort();
      this.aborts.delete(controller);
    }
  }

  private onExit(state: ServiceState, run: ServiceRun, exit: ExitInfo): void {
    if (state.run !== run || this.stopping || state.status === 'stopping') return;
    this.crashed(state, describeExit(exit), exit);
  }

  /** A running service died (or failed to come back): restart with backoff, or give up. */
  private crashed(state: ServiceState, reason: string, exit: ExitInfo | null): void {
    const { spec } = state;
    const lastLines = this.logs.tail(spec.name, 20, undefined, spec.instance);
    state.lastExit = {
      at: new Date().toISOString(),
      code: exit?.code ?? null,
      signal: exit?.signal ?? null,
      reason,
      lastLines,
    };
    this.note(spec, 'error', `${spec.name} ${reason}`);
    const now = Date.now();
    state.crashes = state.crashes.filter((t) => now - t < this.policy.windowMs);
    state.crashes.push(now);
    if (state.crashes.length > this.policy.maxRestarts) {
      this.fail(
        state,
        `crashed ${state.crashes.length} times within ${seconds(this.policy.windowMs)}; not restarting it again. Last: ${reason}`,
        lastLines,
      );
      return;
    }
    const delayMs = Math.min(
      this.policy.maxDelayMs,
      this.policy.initialDelayMs * 2 ** (state.crashes.length - 1),
    );
    state.status = 'restarting';
    state.restarts++;
    this.note(spec, 'warn', `restarting in ${delayMs} ms (restart ${state.restarts})`);
    this.emit({
      type: 'restarting',
      service: spec.name,
      ...instanceOf(spec),
      reason,
      delayMs,
      restarts: state.restarts,
    });
    this.changed();
    state.restartTimer = setTimeout(() => {
      state.restartTimer = undefined;
      if (this.stopping) return;
      void this.track(this.launch(state, true)).catch((err: Error) => {
        if (err instanceof StartAborted || this.stopping) return;
        this.crashed(state, `failed to restart: ${err.message}`, null);
      });
    }, delayMs);
  }

  private fail(state: ServiceState, reason: string, lastLines: readonly string[]): void {
    state.status = 'failed';
    state.message = reason;
    this.note(state.spec, 'error', `failed: ${reason}`);
    this.emit({
      type: 'failed',
      service: state.spec.name,
      ...instanceOf(state.spec),
      reason,
      lastLines,
    });
    this.changed();
  }

  private spawnRun(spec: ServiceSpec, plan: LaunchPlan): ServiceRun {
    const stdio = ['ignore', 'pipe', 'pipe', ...(plan.ipc ? ['ipc' as const] : [])] as const;
    const secretsFd = plan.secrets ? stdio.length : undefined;
    const child = spawn(plan.command, [...plan.args], {
      cwd: plan.cwd,
      env:
        secretsFd === undefined
          ? { ...plan.env }
          : { ...plan.env, TASKDOCK_SECRETS_FD: String(secretsFd) },
      stdio: secretsFd === undefined ? [...stdio] : [...stdio, 'pipe'],
      // Own process group on POSIX: a terminal's Ctrl-C reaches only the supervisor, which then
      // stops the services in order (redis must not quit before the worker re-queued its tasks).
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    if (secretsFd !== undefined) {
      const pipe = child.stdio[secretsFd] as NodeJS.WritableStream | null;
      // A child that dies at once breaks the pipe: its exit is reported, not an EPIPE crash.
      pipe?.on('error', () => {});
      pipe?.end(JSON.stringify(plan.secrets));
    }
    let exitInfo: ExitInfo | undefined;
    const exited = new Promise<ExitInfo>((resolve) => {
      child.once('error', (error) => {
        if (child.pid === undefined) {
          exitInfo = { code: null, signal: null, error };
          resolve(exitInfo);
        }
      });
      child.once('exit', (code, signal) => {
        exitInfo = { code, signal };
        // Wait for the pipes to drain so the last words are captured, but not for a grandchild
        // that inherited them (e.g. a redis BGSAVE fork) to finish.
        const timer = setTimeout(() => resolve(exitInfo as ExitInfo), 1000);
        child.once('close', () => {
          clearTimeout(timer);
          resolve(exitInfo as ExitInfo);
        });
      });
    });
    // This run's own lines, for waitForLine: another process of the service says the same.
    const lineListeners = new Set<(line: ServiceLogLine) => void>();
    const heard = (lines: ServiceLogLine[]) => {
      for (const line of lines) for (const listener of lineListeners) listener(line);
    };
    const { instance } = spec;
    child.stdout?.on('data', (chunk: Buffer) =>
      heard(this.logs.capture(spec.name, 'stdout', chunk, instance)),
    );
    child.stderr?.on('data', (chunk: Buffer) =>
      heard(this.logs.capture(spec.name, 'stderr', chunk, instance)),
    );
    child.stdout?.on('end', () => heard(this.logs.flush(spec.name, 'stdout', instance)));
    child.stderr?.on('end', () => heard(this.logs.flush(spec.name, 'stderr', instance)));
    // A closed channel must not crash the supervisor with an unhandled 'error'.
    child.on('error', (err) => {
      if (child.pid !== undefined) this.note(spec, 'warn', `process error: ${err.message}`);
    });

    const run: ServiceRun = {
      pid: child.pid ?? -1,
      child,
      exited,
      hasExited: () => exitInfo !== undefined,
      waitForLine(match, signal) {
        return new Promise((resolve, reject) => {
          if (signal.aborted) return reject(new Error('aborted'));
          const listener = (line: ServiceLogLine) => {
            if (match(line)) {
              unsubscribe();
              resolve(line);
            }
          };
          const unsubscribe = () => lineListeners.delete(listener);
          lineListeners.add(listener);
          signal.addEventListener(
            'abort',
            () => {
              unsubscribe();
              reject(new Error('aborted'));
            },
            { once: true },
          );
        });
      },
    };
    if (child.pid !== undefined) {
      this.note(spec, 'info', `started pid ${child.pid}: ${plan.command} ${plan.args.join(' ')}`);
      spec.attach?.(run);
    }
    return {
      ...run,
      exited: exited.then(async (exit) => {
        await spec.afterExit?.(run).catch(() => {});
        return exit;
      }),
    };
  }

  /** A supervisor line about one service's process, in that process's log. */
  private note(spec: ServiceSpec, level: ServiceLogLevel, text: string): void {
    const said = spec.instance === undefined ? text : `${serviceLabel(spec)}: ${text}`;
    this.logs.system(spec.name, level, said, undefined, spec.instance);
  }

  private emit(event: WithoutTime<SupervisorEvent>): void {
    const at = Date.now();
    const full = { ...event, at, sinceStartMs: at - this.startedAt } as SupervisorEvent;
    for (const listener of this.eventListeners) {
      try {
        listener(full);
      } catch {
        // A listener's bug must not break supervision.
      }
    }
  }

  private changed(): void {
    if (this.changeListeners.size === 0) return;
    const snapshot = this.services();
    for (const listener of this.changeListeners) {
      try {
        listener(snapshot);
      } catch {
        // As above.
      }
    }
  }
}
