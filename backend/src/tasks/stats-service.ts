import type { Redis } from 'ioredis';
import { type ByStatus, type Stats, TASK_STATUSES } from '../contract/index.ts';
import {
  QUEUES_KEY,
  STATS_TOTALS_KEY,
  statsWorkflowKey,
  statusIndexKey,
  THROUGHPUT_BUCKET_MS,
  throughputKey,
} from './keys.ts';
import { listWorkers } from './worker-registry.ts';

const WINDOWS = { last1m: 60_000, last5m: 300_000, last15m: 900_000 } as const;

const counts = (hash: Record<string, string>) => ({
  created: Number(hash.created ?? 0),
  completed: Number(hash.completed ?? 0),
  failed: Number(hash.failed ?? 0),
  cancelled: Number(hash.cancelled ?? 0),
});

/** Reads what the event relay keeps: totals since install, status counts, throughput. */
export class StatsService {
  constructor(
    private readonly redis: Redis,
    private readonly workflows: readonly string[],
  ) {}

  async queues(): Promise<string[]> {
    const known = await this.redis.smembers(QUEUES_KEY);
    return [...new Set([...this.workflows, ...known])].sort();
  }

  async stats(now = Date.now()): Promise<Stats> {
    const queues = await this.queues();
    const newest = Math.floor(now / THROUGHPUT_BUCKET_MS);
    const oldest = Math.floor((now - WINDOWS.last15m) / THROUGHPUT_BUCKET_MS) + 1;
    const buckets = Array.from({ length: newest - oldest + 1 }, (_, i) => oldest + i);

    const read = this.redis.pipeline().hgetall(STATS_TOTALS_KEY);
    for (const queue of queues) {
      read.hgetall(statsWorkflowKey(queue));
      for (const status of TASK_STATUSES) read.zcard(statusIndexKey(status, queue));
    }
    for (const bucket of buckets) read.hgetall(throughputKey(bucket));
    const [results, workers] = await Promise.all([read.exec(), listWorkers(this.redis)]);
    const values = (results ?? []).map(([err, value]) => {
      if (err) throw err;
      return value;
    });
    let at = 0;
    const totals = counts(values[at++] as Record<string, string>);
    const byStatus = emptyByStatus();
    const perQueue = queues.map((name) => {
      const queueTotals = counts(values[at++] as Record<string, string>);
      const queueByStatus = emptyByStatus();
      for (const status of TASK_STATUSES) {
        queueByStatus[status] = values[at++] as number;
        byStatus[status] += queueByStatus[status];
      }
      return { name, totals: queueTotals, byStatus: queueByStatus };
    });
    const finished = buckets.map(() => values[at++] as Record<string, string>);
    const throughputOf = (field: string) => {
      const rate = (windowMs: number) => {
        const from = Math.floor((now - windowMs) / THROUGHPUT_BUCKET_MS) + 1;
        let sum = 0;
        buckets.forEach((bucket, i) => {
          if (bucket >= from) sum += Number(finished[i]?.[field] ?? 0);
        });
        // Per minute over the time the buckets really cover (the newest one is still filling).
        const covered = now - from * THROUGHPUT_BUCKET_MS;
        return Math.round((sum * 60_000 * 100) / covered) / 100;
      };
      return {
        last1m: rate(WINDOWS.last1m),
        last5m: rate(WINDOWS.last5m),
        last15m: rate(WINDOWS.last15m),
      };
    };
    return {
      totals,
      byStatus,
      workflows: perQueue.map((q) => ({ ...q, throughput: throughputOf(q.name) })),
      throughput: throughputOf('*'),
      workers,
    };
  }
}

function emptyByStatus(): ByStatus {
  return Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as ByStatus;
}
