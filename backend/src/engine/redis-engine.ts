import type {
  BulkAction,
  BulkActionRequest,
  CheckSchedule,
  CreateTask,
  ListTasksQuery,
  UpsertSchedule,
} from '@taskdock/shared/contract';
import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import type { Logger } from 'pino';
import { previewCronSchedule } from '../tasks/cron-check.ts';
import { retryWithParams } from '../tasks/edit-retry.ts';
import { EventHub } from '../tasks/event-hub.ts';
import { EventRelay, type FinishedTask } from '../tasks/event-relay.ts';
import { QueueControls } from '../tasks/queue-controls.ts';
import { replicatedWrites } from '../tasks/replication-wait.ts';
import { StatsService } from '../tasks/stats-service.ts';
import { TaskService } from '../tasks/task-service.ts';
import { listWorkers } from '../tasks/worker-registry.ts';
import type { WorkflowRegistry } from '../workflows/registry.ts';
import { workflowInfos } from '../workflows/workflow-info.ts';
import { runBulkAction } from './bulk-actions.ts';
import { taskNotFound } from './errors.ts';
import type { QueueChange, TaskEngine } from './task-engine.ts';

export interface RedisEngineOptions {
  readonly redis: RedisConnection;
  readonly registry: WorkflowRegistry;
  readonly retentionDays: number;
  readonly logger: Logger;
  /** How long cancel waits for a running task's worker to confirm. */
  readonly cancelWaitMs?: number;
  /** Each task the event relay sees finish (metrics: durations). */
  readonly onFinished?: (task: FinishedTask) => void;
  /** Queues that appear after start (remote workflows, remote/): the relay follows them at once. */
  readonly laterQueues?: { onChange(listener: () => void): void; queues(): readonly string[] };
  /** TASKDOCK_REDIS_MIN_REPLICAS: a create answers once this many replicas have it (default 0). */
  readonly minReplicas?: { readonly count: number; readonly timeoutMs: number };
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
  const replicated = replicatedWrites(
    redis,
    options.minReplicas?.count ?? 0,
    options.minReplicas?.timeoutMs ?? 0,
  );
  const stats = new StatsService(redis, workflows);
  const queues = new QueueControls(redis, registry);
  const relay = new EventRelay({
    redis,
    queues: workflows,
    logger,
    onFinished: (task) => options.onFinished?.(task),
  });
  const events = new EventHub(redis, logger);
  await events.start();
  const { laterQueues } = options;
  if (laterQueues) {
    relay.follow(laterQueues.queues());
    laterQueues.onChange(() => relay.follow(laterQueues.queues()));
  }
  // Workflow files loaded later (workflows/workflow-watcher.ts): their queues are followed at once.
  const unfollow = registry.onChange(() => relay.follow(registry.list().map((w) => w.name)));
  relay.start();
  return {
    create: (input: CreateTask) => replicated(() => tasks.create(input)),
    createMany: (inputs: readonly CreateTask[]) => replicated(() => tasks.createMany(inputs)),
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
      const [workers, states] = await Promise.all([listWorkers(redis), queues.states()]);
      return workflowInfos(registry, {
        workers: (name) => workers.filter((worker) => worker.workflows.includes(name)).length,
        paused: (name) => states.find((state) => state.workflow === name)?.paused ?? false,
      });
    },
    upsertSchedule: (name: string, input: UpsertSchedule) => tasks.upsertSchedule(name, input),
    listSchedules: () => tasks.listSchedules(),
    removeSchedule: (name: string) => tasks.removeSchedule(name),
    pauseSchedule: (name: string) => tasks.pauseSchedule(name),
    resumeSchedule: (name: string) => tasks.resumeSchedule(name),
    checkSchedule: async (input: CheckSchedule) => ({
      nextRuns: previewCronSchedule(input.pattern, input.tz),
    }),
    queues: () => queues.states(),
    async updateQueue(workflow: string, change: QueueChange) {
      queues.queue(workflow);
      if (change.globalConcurrency !== undefined) {
        await queues.setGlobalConcurrency(workflow, change.globalConcurrency);
      }
      if (change.paused !== undefined) await queues.setPaused(workflow, change.paused);
      return queues.state(workflow);
    },
    removeFinished: (workflow, request) =>
      queues.removeFinished(workflow, Date.parse(request.finishedBefore), request.dryRun === true),
    bulk: (action: BulkAction, request: BulkActionRequest) =>
      runBulkAction(tasks, action, request, (err, taskId) =>
        logger.error({ err, taskId, action }, 'bulk action failed on a task'),
      ),
    retryWithParams: (id: string, params: Record<string, unknown>) =>
      retryWithParams({ redis, registry, tasks, queue: (w) => queues.queue(w) }, id, params),
    async ping() {
      await redis.ping();
    },
    async close() {
      unfollow();
      await relay.stop();
      await events.stop();
      await tasks.close();
      await queues.close();
    },
  };
}
