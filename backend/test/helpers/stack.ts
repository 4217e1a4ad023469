import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { Task } from '../../src/contract/index.ts';
import { FINAL_STATUSES } from '../../src/contract/index.ts';
import { type BackendServices, startBackendServices } from '../../src/engine.ts';
import type { TaskService } from '../../src/tasks/task-service.ts';
import {
  createTaskWorker,
  type TaskWorker,
  type TaskWorkerConfig,
} from '../../src/worker/task-worker.ts';
import { builtInWorkflows, createWorkflowRegistry } from '../../src/workflows/registry.ts';
import { pickEnv, SHELL_ENV_KEYS } from '../../src/workflows/shell.ts';
import { startRedisServer, type TestRedis } from './redis-server.ts';

export const TEST_TOKEN = 'test-token-0123456789abcdef';

export interface TestStack {
  readonly redis: TestRedis;
  readonly client: Redis;
  readonly app: FastifyInstance;
  readonly tasks: TaskService;
  readonly services: BackendServices;
  readonly worker: TaskWorker | undefined;
  /** `app.inject` with the bearer token and JSON body. */
  request(options: InjectOptions & { token?: string | null }): Promise<LightMyRequestResponse>;
  /** Polls the task until `until` holds (default: a final status); fails after `timeoutMs`. */
  waitForTask(id: string, until?: (task: Task) => boolean, timeoutMs?: number): Promise<Task>;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Run an in-process worker with these settings (false: none). */
  worker?: Partial<TaskWorkerConfig> | false;
  redis?: TestRedis;
}

export function workerConfig(overrides: Partial<TaskWorkerConfig> = {}): TaskWorkerConfig {
  const defaults = loadConfig({
    TASKDOCK_REDIS_URL: 'redis://127.0.0.1:1',
    TASKDOCK_DATA_DIR: '/tmp',
  });
  return { ...defaults, lockDurationMs: 3000, shutdownGraceMs: 2000, ...overrides };
}

/** A real redis-server, the real app and (optionally) a real in-process worker. */
export async function startStack(options: StackOptions = {}): Promise<TestStack> {
  const redis = options.redis ?? (await startRedisServer());
  const client = redis.client();
  const registry = createWorkflowRegistry(
    builtInWorkflows({ baseEnv: pickEnv(process.env, SHELL_ENV_KEYS) }),
  );
  const services = await startBackendServices({
    redis: client,
    registry,
    retentionDays: 7,
    cancelWaitMs: 5000,
    logger: pino({ level: 'silent' }),
  });
  const { tasks } = services;
  const app = await buildApp({ token: TEST_TOKEN, redis: client, ...services, registry });
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
  const stack: TestStack = {
    redis,
    client,
    app,
    tasks,
    services,
    worker,
    request({ token = TEST_TOKEN, headers, ...rest }) {
      return app.inject({
        ...rest,
        headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers },
      });
    },
    async waitForTask(id, until = (t) => FINAL_STATUSES.includes(t.status), timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const task = await tasks.get(id);
        if (task && until(task)) return task;
        if (Date.now() > deadline) {
          throw new Error(`Task ${id} did not reach the state in time: ${JSON.stringify(task)}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      await worker?.stop();
      await app.close();
      await services.close();
      if (!options.redis) await redis.stop();
    },
  };
  return stack;
}
