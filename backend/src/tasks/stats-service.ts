import { type ByStatus, type Stats, TASK_STATUSES } from '@taskdock/shared/contract';
import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import {
  QUEUES_KEY,
  queueMetaKey,
  STATS_TOTALS_KEY,
  statsWorkflowKey,
  statusIndexKey,
  throughputKey,
} from './keys.ts';
import { throughputBuckets, throughputRates } from './throughput.ts';
import { listWorkers } from './worker-registry.ts';

const counts = (hash: Record<string, string>) => ({
  created: Number(hash.created ?? 0),
  completed: Number(hash.completed ?? 0),
  failed: Number(hash.failed ?? 0),
  cancelled: Number(hash.cancelled ?? 0),
});

/** Reads what the event relay keeps: totals since install, status counts, throughput. */
export class StatsService {
  constructor(
    private readonly redis: RedisConnection,
    private readonly workflows: readonly string[],
  ) {}

  async queues(): Promise<string[]> {
    const known = await this.redis.smembers(QUEUES_KEY);
    return [...new Set([...this.workflows, ...known])].sort();
  }

  async stats(now = Date.now()): Promise<Stats> {
    const queues = await this.queues();
    const buckets = throughputBuckets(now);

    const read = this.redis.pipeline().hgetall(STATS_TOTALS_KEY);
    for (const queue of queues) {
      read.hgetall(statsWorkflowKey(queue));
      read.hget(queueMetaKey(queue), 'paused');
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
      const paused = values[at++] === '1';
      const queueByStatus = emptyByStatus();
      for (const status of TASK_STATUSES) {
        queueByStatus[status] = values[at++] as number;
        byStatus[status] += queueByStatus[status];
      }
      return { name, totals: queueTotals, byStatus: queueByStatus, paused };
    });
    const finished = buckets.map(() => values[at++] as Record<string, string>);
    const bucketAt = new Map(buckets.map((bucket, i) => [bucket, i]));
    const throughputOf = (field: string) =>
      throughputRates((bucket) => Number(finished[bucketAt.get(bucket) ?? -1]?.[field] ?? 0), now);
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
