import os from 'node:os';
import type { ServiceName, StoreInfo } from '@taskdock/shared/contract';
import { dataPaths } from '@taskdock/shared/node/data-paths';
import { describeRedis } from '@taskdock/shared/node/redis-connection';
import { readRemoteServing, servingEnv } from '@taskdock/shared/node/remote-serving';
import {
  type RuntimeInfo,
  removeRuntimeFile,
  removeStaleRuntimeFileSync,
  runtimeSupervisor,
  writeRuntimeFile,
} from '@taskdock/shared/node/runtime-file';
import { createSignInUrl } from '@taskdock/shared/node/sign-in';
import { ensureToken } from '@taskdock/shared/node/token-file';
import { readLastBackendPort, saveBackendPort } from './backend-port.ts';
import type { DesktopConfig } from './config.ts';
import { lockDataDir, prepareDataDir } from './data-dir.ts';
import {
  defaultUiDir,
  type Layout,
  type NodeRunner,
  nodeServiceCommand,
  type RedisLookup,
} from './paths.ts';
import { attachSupervisionChannel } from './supervisor/backend-channel.ts';
import { LogStore, type LogStoreOptions } from './supervisor/logs.ts';
import {
  type BackendService,
  createBackendService,
  createRedisService,
  createWorkerService,
  type RedisService,
} from './supervisor/services.ts';
import {
  checkExternalRedis,
  memoryAfterFailedRedis,
  notUsedInMemoryMode,
  planStore,
  type StorePlan,
  storeInfo,
} from './supervisor/store-plan.ts';
import {
  type OutsideService,
  type RestartPolicy,
  type ServiceSpec,
  StartupError,
  Supervisor,
  type SupervisorEvent,
} from './supervisor/supervisor.ts';

export interface TaskdockOptions {
  readonly config: DesktopConfig;
  readonly layout: Layout;
  readonly runner: NodeRunner;
  /** The supervisor's pid, which children watch (TASKDOCK_PARENT_PID). */
  readonly supervisorPid: number;
  readonly platform?: NodeJS.Platform;
  readonly arch?: string;
  readonly restart?: Partial<RestartPolicy>;
  readonly readyTimeoutMs?: Partial<Record<ServiceName, number>>;
  readonly stopGraceMs?: Partial<Record<ServiceName, number>>;
  /** Overrides of where redis-server is looked for (tests of the "binary missing" path). */
  readonly redisLookup?: Partial<Pick<RedisLookup, 'layout' | 'pathEnv' | 'override'>>;
  readonly logStore?: Partial<Omit<LogStoreOptions, 'dir'>>;
}

/** What a `worker` host runs once started. */
export interface WorkerHostInfo {
  readonly store: StoreInfo;
  readonly workerPids: readonly number[];
}

export interface Taskdock {
  readonly paths: ReturnType<typeof dataPaths>;
  /** Set once start() has begun (the log store needs a writable data dir). */
  readonly logs: LogStore | undefined;
  readonly supervisor: Supervisor | undefined;
  onEvent(listener: (event: SupervisorEvent) => void): () => void;
  /** Runs everything; resolves with what runtime.json holds, or throws a StartupError. */
  start(): Promise<RuntimeInfo>;
  /** The same for TASKDOCK_ROLE=worker, which has no API (and no runtime.json). */
  startWorkers(): Promise<WorkerHostInfo>;
  /** Stops everything in reverse order and removes runtime.json (idempotent). */
  stop(): Promise<void>;
  /** A fresh one-time sign-in link (after start). */
  signInUrl(): string;
  runtime(): RuntimeInfo | undefined;
}

/**
 * Taskdock as one object: the data dir and its lock, the token, redis-server (unless
 * TASKDOCK_REDIS_URL), the worker processes and the backend under one Supervisor (those of
 * TASKDOCK_ROLE), runtime.json. The headless runner and the Electron main process both use it.
 */
export function createTaskdock(options: TaskdockOptions): Taskdock {
  const { config } = options;
  const paths = dataPaths(config.dataDir);
  const listeners = new Set<(event: SupervisorEvent) => void>();
  let logs: LogStore | undefined;
  let supervisor: Supervisor | undefined;
  let runtime: RuntimeInfo | undefined;
  let token = '';
  let backend: BackendService | undefined;
  let releaseLock: (() => Promise<void>) | undefined;
  let stopRequested = false;
  let stopPromise: Promise<void> | undefined;
  let writes = Promise.resolve();

  const emit = (event: SupervisorEvent) => {
    for (const listener of listeners) listener(event);
  };

  const saveRuntime = () => {
    if (!runtime || !supervisor || stopRequested) return;
    const sv = supervisor;
    runtime = {
      ...runtime,
      pids: { redis: sv.pid('redis'), worker: sv.pid('worker'), backend: sv.pid('backend') },
    };
    const info = runtime;
    writes = writes.then(() => writeRuntimeFile(paths.runtime, info)).catch(() => {});
  };

  function buildServices(
    store: LogStore,
    lastBackendPort: number | undefined,
    plan: StorePlan,
  ): { specs: ServiceSpec[]; redis: RedisService | undefined; redisUrl: () => string | null } {
    const redis =
      plan.mode === 'redis'
        ? createRedisService({
            binary: plan.binary,
            dir: paths.redis,
            osEnv: config.osEnv,
            logs: store,
            readyTimeoutMs: options.readyTimeoutMs?.redis,
            stopGraceMs: options.stopGraceMs?.redis,
          })
        : undefined;
    const memory = plan.mode === 'memory';
    // runtime.json's `redis.url`: ours, the external URL, or (Sentinel, Cluster) where it is.
    const external = config.redis;
    const redisUrl = () =>
      redis
        ? redis.url()
        : (config.redisSecrets.TASKDOCK_REDIS_URL ?? (external ? describeRedis(external) : null));
    const info = storeInfo(plan);
    const childEnv = () => ({
      ...config.osEnv,
      ...config.serviceSettings,
      // An external Redis's form (addresses, names, TLS): its passwords go on the pipe.
      ...config.redisEnv,
      TASKDOCK_DATA_DIR: config.dataDir,
      // The worker's readiness is its "worker ready" info line: never quieter than info.
      TASKDOCK_LOG_LEVEL: ['debug', 'trace'].includes(config.logLevel) ? config.logLevel : 'info',
      TASKDOCK_PARENT_PID: String(options.supervisorPid),
      TASKDOCK_STORE: info.mode,
      TASKDOCK_STORE_REASON: info.reason,
    });
    const command = (service: 'worker' | 'backend') => {
      const built = nodeServiceCommand(options.layout, options.runner, service);
      return {
        command: built.command,
        args: built.args,
        cwd: config.dataDir,
        env: () => ({ ...childEnv(), ...built.env }),
        // The password must not be in env: a task can read its worker's /proc/<pid>/environ.
        secrets: (): Record<string, string> =>
          redis ? { TASKDOCK_REDIS_URL: redis.url() } : { ...config.redisSecrets },
      };
    };
    // Memory mode: the backend runs the tasks itself, so there is no worker process; an `api`
    // host's workers run on other hosts.
    const workerCount = memory || config.role === 'api' ? 0 : config.workerProcesses;
    const workers = Array.from({ length: workerCount }, (_, i) =>
      createWorkerService({
        ...command('worker'),
        // Numbered only when there are several: one worker keeps `worker.log` as before.
        ...(workerCount > 1 ? { instance: i + 1 } : {}),
        readyTimeoutMs: options.readyTimeoutMs?.worker,
        // The worker lets active tasks finish for its grace period, then re-queues them.
        stopGraceMs: options.stopGraceMs?.worker ?? config.shutdownGraceMs + 5000,
      }),
    );
    if (config.role === 'worker') {
      return { specs: [redis, ...workers].filter((spec) => spec !== undefined), redis, redisUrl };
    }
    const backendCommand = command('backend');
    const uiDir = config.serviceSettings.TASKDOCK_UI_DIR ?? defaultUiDir(options.layout);
    backend = createBackendService({
      ...backendCommand,
      // The remote workers setting is read at each start, so a restart applies a changed one.
      env: () => ({
        ...backendCommand.env(),
        ...servingEnv(config.serviceSettings, readRemoteServing(config.dataDir), os.hostname()),
        TASKDOCK_UI_DIR: uiDir,
      }),
      tlsCertFile: config.serviceSettings.TASKDOCK_TLS_CERT,
      port: config.port,
      lastPort: lastBackendPort,
      note: (message) => store.system('backend', 'warn', message),
      token,
      needsWorker: config.role === 'all',
      readyTimeoutMs: options.readyTimeoutMs?.backend,
      stopGraceMs: options.stopGraceMs?.backend,
      attach: (run) => {
        const sv = supervisor;
        if (!sv) return;
        attachSupervisionChannel(run.child, {
          services: () => sv.services(),
          onChange: (listener) => sv.onChange(listener),
          logs: store,
          restartBackend: () => void sv.restart('backend'),
        });
      },
    });
    const specs = [redis, ...workers, backend].filter((spec) => spec !== undefined);
    return { specs, redis, redisUrl };
  }

  /**
   * Services shown but not run: an external Redis, redis and worker in memory mode, and the
   * workers of an `api` host (TASKDOCK_ROLE).
   */
  function outsideServices(plan: StorePlan): OutsideService[] {
    // A worker host has no API to show its services; an api host's workers run elsewhere.
    const elsewhere: OutsideService[] =
      config.role === 'api'
        ? [
            {
              name: 'worker',
              status: 'external',
              message: 'runs on other hosts (TASKDOCK_ROLE=api)',
            },
          ]
        : [];
    if (plan.mode === 'external') return [{ name: 'redis', status: 'external' }, ...elsewhere];
    if (plan.mode !== 'memory') return [];
    const message = notUsedInMemoryMode(plan.reason);
    return [
      { name: 'redis', status: 'unused', message },
      { name: 'worker', status: 'unused', message },
    ];
  }

  /** Runs one supervisor for `plan`; `auto` falls back to memory if its redis-server fails. */
  async function runServices(
    store: LogStore,
    lastBackendPort: number | undefined,
    plan: StorePlan,
  ): Promise<{ plan: StorePlan; redisUrl: () => string | null }> {
    const { specs, redis, redisUrl } = buildServices(store, lastBackendPort, plan);
    const sv = new Supervisor({
      services: specs,
      logs: store,
      restart: options.restart,
      outside: outsideServices(plan),
    });
    supervisor = sv;
    sv.onEvent(emit);
    sv.onEvent((event) => {
      if (event.type === 'ready') saveRuntime();
    });
    if (stopRequested) throw new StartupError('supervisor', 'startup was cancelled: stopping');
    // Memory mode is said before the backend starts; Redis mode once redis-server runs.
    if (plan.mode === 'memory') announceStore(store, storeInfo(plan));
    try {
      await sv.start();
      if (plan.mode !== 'memory') announceStore(store, storeInfo(plan));
      return { plan, redisUrl };
    } catch (err) {
      const fallback =
        config.store === 'auto' &&
        plan.mode === 'redis' &&
        err instanceof StartupError &&
        err.service === 'redis' &&
        !redis?.refusedItsData() &&
        !stopRequested;
      if (!fallback) throw err;
      return runServices(store, lastBackendPort, memoryAfterFailedRedis(plan.binary, err));
    }
  }

  /** `storage_mode=…` in the supervisor's log: memory mode says why and how to leave it. */
  function announceStore(store: LogStore, info: StoreInfo): void {
    if (info.mode === 'memory') {
      store.system(
        'supervisor',
        'warn',
        `storage_mode=memory reason="${info.reason}": tasks live in the backend's memory and vanish when Taskdock stops`,
      );
    } else {
      store.system('supervisor', 'info', `storage_mode=redis (${info.reason})`);
    }
  }

  /** Roles with an API (`all`, `api`): runs them and writes runtime.json. */
  function start(): Promise<RuntimeInfo> {
    if (config.role === 'worker') {
      return Promise.reject(
        new StartupError(
          'supervisor',
          'TASKDOCK_ROLE=worker runs no API and no UI: run it with `npm run serve` (the headless runner), or unset TASKDOCK_ROLE',
        ),
      );
    }
    return boot(async (plan, redisUrl, store) => {
      const sv = supervisor as Supervisor;
      const apiUrl = (backend as BackendService).url();
      // Kept for the next start (TASKDOCK_PORT, when set, wins over it).
      await saveBackendPort(paths.backendPort, Number(new URL(apiUrl).port));
      runtime = {
        apiUrl,
        token,
        store: storeInfo(plan),
        redis: plan.mode === 'memory' ? null : { url: redisUrl() as string },
        pids: { redis: sv.pid('redis'), worker: sv.pid('worker'), backend: sv.pid('backend') },
        uiUrl: createSignInUrl(apiUrl, token),
        supervisor: runtimeSupervisor(options.supervisorPid),
      };
      const info = runtime;
      writes = writes.then(() => writeRuntimeFile(paths.runtime, info));
      await writes;
      store.system('supervisor', 'info', `ready: ${apiUrl}`);
      return runtime;
    });
  }

  /**
   * TASKDOCK_ROLE=worker: only worker processes, on the external Redis. No token, no
   * runtime.json: there is no API on this host to point a reader at.
   */
  function startWorkers(): Promise<WorkerHostInfo> {
    if (config.role !== 'worker') {
      return Promise.reject(
        new StartupError('supervisor', `TASKDOCK_ROLE=${config.role} runs an API: use start()`),
      );
    }
    return boot(async (plan, _redisUrl, store) => {
      const pids = (supervisor as Supervisor).pids('worker');
      store.system('supervisor', 'info', `ready: ${pids.length} worker processes`);
      return { store: storeInfo(plan), workerPids: pids };
    });
  }

  /** The data dir and its lock, the token, the log store, the store plan, the services. */
  async function boot<T>(
    finish: (plan: StorePlan, redisUrl: () => string | null, store: LogStore) => Promise<T>,
  ): Promise<T> {
    // First, before any await: a runtime.json left by a killed run must not point a reader at
    // dead processes for even the moments the lock takes.
    removeStaleRuntimeFileSync(paths.runtime, options.supervisorPid);
    try {
      await prepareDataDir(config.dataDir);
      releaseLock = await lockDataDir(paths.lock);
    } catch (err) {
      throw new StartupError('supervisor', (err as Error).message);
    }
    try {
      // The lock is ours: whatever runtime.json is left belongs to no live stack.
      await removeRuntimeFile(paths.runtime);
      if (config.role !== 'worker') token = config.token ?? (await ensureToken(config.dataDir));
      logs = new LogStore({ dir: paths.logs, ...options.logStore });
      logs.system('supervisor', 'info', `starting; data dir ${config.dataDir}`);
      const lastBackendPort =
        config.port > 0 ? undefined : await readLastBackendPort(paths.backendPort);
      const first = planStore(config, {
        layout: options.redisLookup?.layout ?? options.layout,
        platform: options.platform ?? process.platform,
        arch: options.arch ?? process.arch,
        override: options.redisLookup?.override ?? config.redisServer,
        pathEnv: options.redisLookup?.pathEnv ?? config.osEnv.PATH ?? '',
        pathExt: config.osEnv.PATHEXT,
      });
      if (first.mode === 'external') await checkExternalRedis(first.spec);
      const { plan, redisUrl } = await runServices(logs, lastBackendPort, first);
      return await finish(plan, redisUrl, logs);
    } catch (err) {
      await stop();
      // stop() may have run before the lock was taken (a stop during startup): release it too.
      await releaseLock?.().catch(() => {});
      if (err instanceof StartupError) throw err;
      throw new StartupError('supervisor', (err as Error).message);
    }
  }

  async function stopAll(): Promise<void> {
    stopRequested = true;
    logs?.system('supervisor', 'info', 'stopping');
    await supervisor?.stop();
    await writes.catch(() => {});
    await removeRuntimeFile(paths.runtime).catch(() => {});
    runtime = undefined;
    logs?.system('supervisor', 'info', 'stopped');
    logs?.close();
    await releaseLock?.().catch(() => {});
  }

  function stop(): Promise<void> {
    stopPromise ??= stopAll();
    return stopPromise;
  }

  return {
    paths,
    get logs() {
      return logs;
    },
    get supervisor() {
      return supervisor;
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start,
    startWorkers,
    stop,
    signInUrl() {
      if (!runtime) throw new Error('Taskdock is not running');
      return createSignInUrl(runtime.apiUrl, runtime.token);
    },
    runtime: () => runtime,
  };
}
