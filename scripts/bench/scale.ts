// `npm run bench -- --scale` (docs/scale-out.md "Sizing"): the throughput measure of the main
// bench (no-op tasks created through the API, drained from a paused queue) with 1, 2 and 4
// worker processes on one store. Another topology (a Redis Cluster) is another BenchStore.

import { KEY_PREFIXES, useKeyPrefix } from '../../backend/src/tasks/keys.ts';
import { startRedisCluster } from '../../backend/test/helpers/redis-cluster.ts';
import { startBenchBackend } from './backend.ts';
import { taskdockJobsPerSec } from './measures.ts';
import { type BenchStore, clusterStore, redisStore, startBenchRedis } from './redis.ts';

export const SCALE_WORKER_PROCESSES = [1, 2, 4] as const;

export interface ScalePlan {
  readonly jobs: number;
  readonly rounds: number;
  /** Slots per worker process, as in the main throughput measure. */
  readonly concurrency: number;
  readonly log: (text: string) => void;
}

/** Best-of-`rounds` tasks/s for each worker-process count on `store`, keyed by the count. */
export async function measureScale(
  store: BenchStore,
  label: string,
  plan: ScalePlan,
): Promise<Record<number, number>> {
  const backend = await startBenchBackend(store.env);
  try {
    const result: Record<number, number> = {};
    for (const workers of SCALE_WORKER_PROCESSES) {
      let best = 0;
      for (let r = 0; r < plan.rounds; r++) {
        const rate = await taskdockJobsPerSec(
          backend.api,
          store,
          plan.jobs,
          plan.concurrency,
          workers,
        );
        best = Math.max(best, rate);
      }
      result[workers] = Math.round(best);
      plan.log(`  ${label}, ${workers} worker processes: ${result[workers]} tasks/s`);
    }
    return result;
  } finally {
    await backend.stop();
  }
}

/** Durability as the app's own redis-server has it, for the Cluster's primaries too. */
const AOF_EVERYSEC = ['--appendonly', 'yes', '--appendfsync', 'everysec'];

/**
 * The scale section alone: one redis-server, then a 3-primary Cluster (every key under the
 * `{taskdock}` hash tag, so one primary carries the load), a table, then one JSON line.
 */
export async function runScaleBench(plan: ScalePlan): Promise<void> {
  plan.log(
    `bench --scale: ${plan.jobs} no-op tasks x ${plan.rounds} rounds per setup, ` +
      `concurrency ${plan.concurrency} per worker process`,
  );
  const redis = await startBenchRedis();
  let single: Record<number, number>;
  try {
    single = await measureScale(redisStore(redis.url), 'one Redis', plan);
  } finally {
    await redis.stop();
  }
  const cluster = await startRedisCluster(3, AOF_EVERYSEC);
  let clustered: Record<number, number>;
  try {
    // This process's own queue client lays its keys as the backend and workers do there.
    useKeyPrefix(KEY_PREFIXES.cluster);
    clustered = await measureScale(clusterStore(cluster), '3-primary Cluster', plan);
  } finally {
    useKeyPrefix(KEY_PREFIXES.standalone);
    await cluster.stop();
  }
  const summary = Object.fromEntries(
    SCALE_WORKER_PROCESSES.flatMap((n) => [
      [`scaleOneRedisWorkers${n}JobsPerSec`, single[n]],
      [`scaleClusterWorkers${n}JobsPerSec`, clustered[n]],
    ]),
  );
  console.log('\nsetup                                  tasks/s');
  for (const [label, result] of [
    ['one Redis', single],
    ['3-primary Cluster', clustered],
  ] as const) {
    for (const n of SCALE_WORKER_PROCESSES) {
      console.log(`${`${label}, ${n} worker processes`.padEnd(38)} ${result[n]}`);
    }
  }
  console.log(JSON.stringify(summary));
}
