import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Stats } from './contract/index.ts';
import type { TaskEngine } from './engine/task-engine.ts';
import type { FinishedTask } from './tasks/event-relay.ts';

export interface Metrics {
  readonly registry: Registry;
  observeFinished(task: FinishedTask): void;
}

const STATS_TTL_MS = 500;

/** Prometheus metrics; task numbers are read from the engine at scrape time, so they are global. */
export function createMetrics(engine: Pick<TaskEngine, 'stats' | 'ping'>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // Several collectors read the same snapshot in one scrape.
  let snapshot: { at: number; value: Promise<Stats> } | undefined;
  const current = () => {
    if (!snapshot || Date.now() - snapshot.at > STATS_TTL_MS) {
      snapshot = { at: Date.now(), value: engine.stats() };
    }
    return snapshot.value;
  };

  new Counter({
    name: 'taskdock_tasks_total',
    help: 'Tasks since install by workflow and outcome (created, completed, failed, cancelled)',
    labelNames: ['workflow', 'outcome'] as const,
    registers: [registry],
    async collect() {
      const { workflows } = await current();
      this.reset();
      for (const wf of workflows) {
        for (const [outcome, value] of Object.entries(wf.totals)) {
          this.inc({ workflow: wf.name, outcome }, value);
        }
      }
    },
  });
  new Gauge({
    name: 'taskdock_queue_depth',
    help: 'Tasks waiting or running, by workflow and status',
    labelNames: ['workflow', 'status'] as const,
    registers: [registry],
    async collect() {
      const { workflows } = await current();
      this.reset();
      for (const wf of workflows) {
        for (const status of ['queued', 'scheduled', 'running'] as const) {
          this.set({ workflow: wf.name, status }, wf.byStatus[status]);
        }
      }
    },
  });
  new Gauge({
    name: 'taskdock_workers',
    help: 'Live worker processes',
    registers: [registry],
    async collect() {
      this.set((await current()).workers.length);
    },
  });
  // One PING per scrape: up first, then the latency it measured.
  let latencySeconds = 0;
  new Gauge({
    name: 'taskdock_redis_up',
    help: '1 when Redis answers PING',
    registers: [registry],
    async collect() {
      const started = performance.now();
      try {
        await engine.ping();
        latencySeconds = (performance.now() - started) / 1000;
        this.set(1);
      } catch {
        this.set(0);
      }
    },
  });
  new Gauge({
    name: 'taskdock_redis_latency_seconds',
    help: 'Round trip of the PING behind taskdock_redis_up',
    registers: [registry],
    collect() {
      this.set(latencySeconds);
    },
  });
  const duration = new Histogram({
    name: 'taskdock_task_duration_seconds',
    help: 'Run time of finished tasks, seen by this backend',
    labelNames: ['workflow', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800],
    registers: [registry],
  });
  return {
    registry,
    observeFinished(task) {
      if (task.durationMs !== undefined) {
        duration.observe(
          { workflow: task.workflow, outcome: task.outcome },
          task.durationMs / 1000,
        );
      }
    },
  };
}
