import { STORE_MODES, type Stats, type StoreInfo } from '@taskdock/shared/contract';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { TaskEngine } from './engine/task-engine.ts';
import type { LeaseObserver } from './remote/lease-engine.ts';
import type { FinishedTask } from './tasks/event-relay.ts';

export interface Metrics {
  readonly registry: Registry;
  observeFinished(task: FinishedTask): void;
  /** Remote workers' leases handed out, ended and expired by this backend. */
  readonly leases: LeaseObserver;
}

const STATS_TTL_MS = 500;

/** Prometheus metrics; task numbers are read from the engine at scrape time, so they are global. */
export function createMetrics(
  engine: Pick<TaskEngine, 'stats' | 'ping'>,
  store: StoreInfo = { mode: 'redis', reason: '' },
): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const storeGauge = new Gauge({
    name: 'taskdock_store',
    help: 'Where tasks live: 1 for the store in use (memory: tasks vanish when the backend stops)',
    labelNames: ['mode'] as const,
    registers: [registry],
  });
  for (const mode of STORE_MODES) storeGauge.set({ mode }, mode === store.mode ? 1 : 0);

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
  // One PING per scrape: up first, then the latency it measured. Memory mode has no Redis.
  if (store.mode === 'redis') {
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
  }
  const duration = new Histogram({
    name: 'taskdock_task_duration_seconds',
    help: 'Run time of finished tasks, seen by this backend',
    labelNames: ['workflow', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800],
    registers: [registry],
  });
  new Gauge({
    name: 'taskdock_leases_active',
    help: 'Leases remote workers hold now (all backends)',
    registers: [registry],
    async collect() {
      const { workers } = await current();
      this.set(workers.reduce((sum, w) => sum + (w.remote?.leases ?? 0), 0));
    },
  });
  const leasesTaken = new Counter({
    name: 'taskdock_leases_total',
    help: 'Leases handed out to remote workers by this backend',
    registers: [registry],
  });
  const leasesExpired = new Counter({
    name: 'taskdock_leases_expired_total',
    help: 'Leases that expired (the worker stopped heartbeating), seen by this backend',
    registers: [registry],
  });
  const leaseRoundTrip = new Histogram({
    name: 'taskdock_lease_round_trip_seconds',
    help: 'From a lease to its complete, fail or release, seen by this backend',
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800],
    registers: [registry],
  });
  return {
    registry,
    leases: {
      leased: () => leasesTaken.inc(),
      ended: (ms) => leaseRoundTrip.observe(ms / 1000),
      expired: () => leasesExpired.inc(),
    },
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
