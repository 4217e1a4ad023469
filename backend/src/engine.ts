import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createMetrics, type Metrics } from './metrics.ts';
import { EventHub } from './tasks/event-hub.ts';
import { EventRelay } from './tasks/event-relay.ts';
import { StatsService } from './tasks/stats-service.ts';
import { TaskService } from './tasks/task-service.ts';
import type { WorkflowRegistry } from './workflows/registry.ts';

export interface BackendServices {
  readonly tasks: TaskService;
  readonly stats: StatsService;
  readonly events: EventHub;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

export interface BackendServicesOptions {
  readonly redis: Redis;
  readonly registry: WorkflowRegistry;
  readonly retentionDays: number;
  readonly logger: Logger;
  readonly cancelWaitMs?: number;
}

/** The backend's engine side: task service, the event relay and hub, stats and metrics. */
export async function startBackendServices(
  options: BackendServicesOptions,
): Promise<BackendServices> {
  const { redis, registry, logger } = options;
  const workflows = registry.list().map((w) => w.name);
  const tasks = new TaskService({
    redis,
    registry,
    retentionDays: options.retentionDays,
    ...(options.cancelWaitMs === undefined ? {} : { cancelWaitMs: options.cancelWaitMs }),
  });
  const stats = new StatsService(redis, workflows);
  const metrics = createMetrics(stats, redis);
  const relay = new EventRelay({
    redis,
    queues: workflows,
    logger,
    onFinished: (task) => metrics.observeFinished(task),
  });
  const events = new EventHub(redis, logger);
  await events.start();
  relay.start();
  return {
    tasks,
    stats,
    events,
    metrics,
    async close() {
      await relay.stop();
      await events.stop();
      await tasks.close();
    },
  };
}
