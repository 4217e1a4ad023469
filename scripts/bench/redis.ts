import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@taskdock/shared/node/ports';
import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import { Redis } from 'ioredis';
import { renderRedisConfig } from '../../desktop/src/supervisor/services.ts';

/**
 * How the bench and its processes reach one Redis topology: a single server here; a Cluster
 * is another BenchStore (its variables in `env`, a Cluster client from `connect`).
 */
export interface BenchStore {
  /** The variables a backend or worker process is given to reach it. */
  readonly env: Readonly<Record<string, string>>;
  /** The bench's own client (queue pause/resume, counts); retries forever, as BullMQ needs. */
  connect(): RedisConnection;
}

export function redisStore(url: string): BenchStore {
  return {
    env: { TASKDOCK_REDIS_URL: url },
    connect: () => new Redis(url, { maxRetriesPerRequest: null }),
  };
}

/** A Cluster (the test harness's): its primaries as TASKDOCK_REDIS_CLUSTER seeds. */
export function clusterStore(cluster: { seeds: string; client(): RedisConnection }): BenchStore {
  return { env: { TASKDOCK_REDIS_CLUSTER: cluster.seeds }, connect: () => cluster.client() };
}

export interface BenchRedis {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** A redis-server with exactly the app's configuration (AOF everysec, noeviction, password). */
export async function startBenchRedis(): Promise<BenchRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-bench-redis-'));
  const port = await freePort();
  const password = 'bench-password-0123456789';
  const conf = path.join(dir, 'redis.conf');
  await writeFile(conf, renderRedisConfig({ dir, port, password }));
  const binary = process.env.TASKDOCK_REDIS_SERVER || 'redis-server';
  const child: ChildProcess = spawn(binary, [conf], { stdio: 'ignore' });
  // Whatever ends the bench (even an uncaught error) ends its redis-server too.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const url = `redis://:${password}@127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      if (i > 100 || child.exitCode !== null)
        throw new Error(`redis-server did not start (${binary})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    pid: child.pid as number,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
