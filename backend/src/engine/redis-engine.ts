import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CreateTask, ListTasksQuery, UpsertSchedule } from '../contract/index.ts';
import { EventHub } from '../tasks/event-hub.ts';
import { EventRelay, type FinishedTask } from '../tasks/event-relay.ts';
import { StatsService } from '../tasks/stats-service.ts';
import { TaskService } from '../tasks/task-service.ts';
import { listWorkers } from '../tasks/worker-registry.ts';
import type { WorkflowRegistry } from '../workflows/registry.ts';
import { taskNotFound } from './errors.ts';
import type { TaskEngine } from './task-engine.ts';

export interface RedisEngineOptions {
  readonly redis: Redis;
  readonly registry: WorkflowRegistry;
  readonly retentionDays: number;
  readonly logger: Logger;
  /** How long cancel waits for a running task's worker to confirm. */
  readonly cancelWaitMs?: number;
  /** Each task the event relay sees finish (metrics: durations). */
  readonly onFinished?: (task: FinishedTask) => void;
}

/**
 * The engine on Redis and BullMQ: tasks are BullMQ jobs (run by worker processes, see
 * worker/task-worker.ts); the event relay keeps the indexes, counters and the event stream that
 * the event hub follows. Started: the relay and the hub run until `close()`.
 */
export async function createRedisEngine(options: RedisEngineOptions): Promise<TaskEngine> {
  const { redis, registry, logger } = options;
  const workflows = registry.list().map((w) => w.name);
  const tasks = new TaskService({
    redis,
    registry,
    retentionDays: options.retentionDays,
    ...(options.cancelWaitMs === undefined ? {} : { cancelWaitMs: options.cancelWaitMs }),
  });
  const stats = new StatsService(redis, workflows);
  const relay = new EventRelay({
    redis,
    queues: workflows,
    logger,
    onFinished: (task) => options.onFinished?.(task),
  });
  const events = new EventHub(redis, logger);
  await events.start();
  relay.start();
  return {
    create: (input: CreateTask) => tasks.create(input),
    createMany: (inputs: readonly CreateTask[]) => tasks.createMany(inputs),
    get: (id: string) => tasks.get(id),
    async checkTaskId(id: string) {
      if (!(await tasks.taskRef(id))) throw taskNotFound(id);
    },
    list: (query: ListTasksQuery) => tasks.list(query),
    cancel: (id: string) => tasks.cancel(id),
    retry: (id: string) => tasks.retry(id),
    remove: (id: string) => tasks.remove(id),
    logs: (id: string, limit?: number) => tasks.logs(id, limit),
    events,
    stats: () => stats.stats(),
    workers: () => listWorkers(redis),
    async workflows() {
      const workers = await listWorkers(redis);
      return registry.list().map((w) => ({
        name: w.name,
        description: w.description,
        paramsSchema: w.paramsSchema,
        workers: workers.filter((worker) => worker.workflows.includes(w.name)).length,
      }));
    },
    upsertSchedule: (name: string, input: UpsertSchedule) => tasks.upsertSchedule(name, input),
    listSchedules: () => tasks.listSchedules(),
    removeSchedule: (name: string) => tasks.removeSchedule(name),
    async ping() {
      await redis.ping();
    },
    async close() {
      await relay.stop();
      await events.stop();
      await tasks.close();
    },
  };
}
