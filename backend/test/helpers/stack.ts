import type { Task } from '@taskdock/shared/contract';
import { OS_ENV_KEYS, pickEnv } from '@taskdock/shared/node/env';
import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createRedisEngine, type RedisEngineOptions } from '../../src/engine/redis-engine.ts';
import type { TaskEngine } from '../../src/engine/task-engine.ts';
import { createMetrics } from '../../src/metrics.ts';
import type { LeaseEngine } from '../../src/remote/lease-engine.ts';
import { createRedisLeaseEngine, type LeaseConfig } from '../../src/remote/redis-lease-engine.ts';
import type { RemoteServingControl } from '../../src/remote/remote-serving.ts';
import { RemoteWorkflows } from '../../src/remote/remote-workflows.ts';
import {
  createTaskWorker,
  type TaskWorker,
  type TaskWorkerConfig,
} from '../../src/worker/task-worker.ts';
import {
  builtInWorkflows,
  createWorkflowRegistry,
  type WorkflowRegistry,
} from '../../src/workflows/registry.ts';
import { startRedisServer, type TestRedis } from './redis-server.ts';
import { waitForTask } from './wait-for-task.ts';

export const TEST_TOKEN = 'test-token-0123456789abcdef';

/** A Redis the stack runs on: one server (TestRedis), or a Cluster (TestRedisCluster). */
export interface TestStore {
  client(): RedisConnection;
  stop(): Promise<void>;
}

export interface TestStack<S extends TestStore = TestRedis> {
  readonly redis: S;
  readonly client: ReturnType<S['client']>;
  readonly app: FastifyInstance;
  /** The engine the app runs on: suites that go through it run on any engine. */
  readonly engine: TaskEngine;
  readonly worker: TaskWorker | undefined;
  /** The lease engine of remote workers (with `remote` in the options). */
  readonly leases: LeaseEngine | undefined;
  /** `app.inject` with the bearer token and JSON body. */
  request(options: InjectOptions & { token?: string | null }): Promise<LightMyRequestResponse>;
  /** Polls the task until `until` holds (default: a final status); fails after `timeoutMs`. */
  waitForTask(id: string, until?: (task: Task) => boolean, timeoutMs?: number): Promise<Task>;
  close(): Promise<void>;
}

export interface StackOptions<S extends TestStore = TestRedis> {
  /** Run an in-process worker with these settings (false: none). */
  worker?: Partial<TaskWorkerConfig> | false;
  /** The Redis to run on (stopped by its owner); default: a fresh redis-server of the stack's. */
  redis?: S;
  /** Serve remote workers (worker tokens, declarations, leases) with these settings. */
  remote?: Partial<LeaseConfig>;
  /** The remote workers setting (GET/PUT /api/remote-serving); omitted, those answer 501. */
  remoteServing?: RemoteServingControl;
  /** The workflows of the app (and its worker); default: the built-ins. */
  registry?: WorkflowRegistry;
}

export function workerConfig(overrides: Partial<TaskWorkerConfig> = {}): TaskWorkerConfig {
  const defaults = loadConfig({
    TASKDOCK_REDIS_URL: 'redis://127.0.0.1:1',
    TASKDOCK_DATA_DIR: '/tmp',
  });
  return { ...defaults, lockDurationMs: 3000, shutdownGraceMs: 2000, ...overrides };
}

/**
 * The one place the suites get their engine: a second implementation (memory mode) runs the
 * same suites by being made here instead.
 */
export const createTestEngine = (options: RedisEngineOptions): Promise<TaskEngine> =>
  createRedisEngine(options);

/** A real redis-server, the real app and (optionally) a real in-process worker. */
export async function startStack<S extends TestStore = TestRedis>(
  options: StackOptions<S> = {},
): Promise<TestStack<S>> {
  // Without a store given, S is its default, TestRedis.
  const redis = options.redis ?? ((await startRedisServer()) as unknown as S);
  const client = redis.client() as ReturnType<S['client']>;
  const registry =
    options.registry ??
    createWorkflowRegistry(builtInWorkflows({ baseEnv: pickEnv(process.env, OS_ENV_KEYS) }));
  const metrics = createMetrics({ stats: () => engine.stats(), ping: () => engine.ping() });
  const remote = options.remote
    ? new RemoteWorkflows(client, pino({ level: 'silent' }))
    : undefined;
  await remote?.start();
  const engine = await createTestEngine({
    redis: client,
    registry: remote ? remote.withLocal(registry) : registry,
    ...(remote ? { laterQueues: remote } : {}),
    retentionDays: 7,
    cancelWaitMs: 5000,
    logger: pino({ level: 'silent' }),
    onFinished: (task) => metrics.observeFinished(task),
  });
  const leases =
    remote &&
    (await createRedisLeaseEngine({
      redis: client,
      engine,
      local: registry,
      remote,
      config: { ...workerConfig(), leaseMs: 1000, maxStalls: 3, ...options.remote },
      logger: pino({ level: 'silent' }),
      observer: metrics.leases,
    }));
  const app = await buildApp({
    token: TEST_TOKEN,
    engine,
    redis: client,
    metrics,
    ...(leases ? { leases } : {}),
    ...(options.remoteServing ? { remoteServing: options.remoteServing } : {}),
  });
  let worker: TaskWorker | undefined;
  if (options.worker !== false) {
    worker = createTaskWorker({
      redis: redis.client(),
      registry,
      config: workerConfig(options.worker ?? {}),
      logger: pino({ level: 'silent' }),
    });
    await worker.start();
  }
  const stack: TestStack<S> = {
    redis,
    client,
    app,
    engine,
    worker,
    leases,
    request({ token = TEST_TOKEN, headers, ...rest }) {
      return app.inject({
        ...rest,
        headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers },
      });
    },
    waitForTask: (id, until, timeoutMs) => waitForTask(engine, id, until, timeoutMs),
    async close() {
      await worker?.stop();
      await app.close();
      await leases?.close();
      await remote?.stop();
      await engine.close();
      if (!options.redis) await redis.stop();
    },
  };
  return stack;
}
