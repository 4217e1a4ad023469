import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@taskdock/shared/node/ports';
import { Redis } from 'ioredis';
import { waitUntil } from './processes.ts';
import { startRedisServer, type TestRedis } from './redis-server.ts';

export const SENTINEL_MASTER = 'taskdock';
/** Sentinel's down-after-milliseconds: how long the primary may be silent before it is "down". */
export const DOWN_AFTER_MS = 1000;
export const FAILOVER_TIMEOUT_MS = 5000;

export interface TestSentinels {
  readonly primary: TestRedis;
  readonly replica: TestRedis;
  readonly sentinelPorts: readonly number[];
  /** The Sentinel connection form, as a Taskdock process reads it. */
  readonly env: Readonly<Record<string, string>>;
  /** The port Sentinel names as the primary now. */
  masterPort(): Promise<number>;
  /** Sentinel pids, for the test to be sure every process stops. */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/** Whether Debian's redis-sentinel (or TASKDOCK_REDIS_SENTINEL) can run here. */
export function sentinelBinary(): string | undefined {
  const binary = process.env.TASKDOCK_REDIS_SENTINEL || 'redis-sentinel';
  const run = spawnSync(binary, ['--version'], { stdio: 'ignore' });
  return run.status === 0 ? binary : undefined;
}

/**
 * A primary, one replica and three Sentinels (quorum 2) on free loopback ports, with a short
 * down-after-milliseconds and failover-timeout so a failover takes seconds. Resolves once every
 * Sentinel knows the replica and the other two Sentinels: only then can they agree on a failover.
 */
export async function startSentinels(binary: string): Promise<TestSentinels> {
  const primary = await startRedisServer();
  const replica = await startRedisServer({
    args: ['--replicaof', '127.0.0.1', String(primary.port)],
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-test-sentinel-'));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const clients: Redis[] = [];
  let output = '';
  const stop = async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }),
    );
    await replica.stop();
    await primary.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const probe = new Redis({ host: '127.0.0.1', port: primary.port, maxRetriesPerRequest: 1 });
    const synced = await waitUntil(async () => {
      const info = await probe.info('replication');
      return /connected_slaves:1/.test(info) && /state=online/.test(info);
    }, 10_000);
    probe.disconnect();
    if (!synced) throw new Error('the replica did not sync with the primary');
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const file = path.join(dir, `sentinel-${i}.conf`);
      // Sentinel rewrites its config file (it must be writable): one each.
      await writeFile(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${primary.port} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER} ${DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${SENTINEL_MASTER} ${FAILOVER_TIMEOUT_MS}`,
          `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
          '',
        ].join('\n'),
      );
      const child = spawn(binary, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout?.on('data', (d) => {
        output += d;
      });
      child.stderr?.on('data', (d) => {
        output += d;
      });
      children.push(child);
      ports.push(port);
    }
    for (const port of ports) {
      const client = new Redis({
        host: '127.0.0.1',
        port,
        // RESP2: SENTINEL replies as arrays, as read below.
        protocol: 2,
        maxRetriesPerRequest: 1,
      });
      client.on('error', () => {});
      clients.push(client);
    }
    const known = await waitUntil(async () => {
      for (const client of clients) {
        try {
          const replicas = (await client.call(
            'SENTINEL',
            'REPLICAS',
            SENTINEL_MASTER,
          )) as unknown[];
          const others = (await client.call('SENTINEL', 'SENTINELS', SENTINEL_MASTER)) as unknown[];
          if (replicas.length < 1 || others.length < 2) return false;
        } catch {
          return false;
        }
      }
      return true;
    }, 20_000);
    if (!known)
      throw new Error(`the Sentinels did not find each other and the replica:\n${output}`);
  } catch (err) {
    await stop();
    throw err;
  }
  const first = clients[0] as Redis;
  return {
    primary,
    replica,
    sentinelPorts: ports,
    pids: children.map((c) => c.pid as number),
    env: {
      TASKDOCK_REDIS_SENTINELS: ports.map((p) => `127.0.0.1:${p}`).join(','),
      TASKDOCK_REDIS_SENTINEL_NAME: SENTINEL_MASTER,
    },
    async masterPort() {
      const [, port] = (await first.call(
        'SENTINEL',
        'GET-MASTER-ADDR-BY-NAME',
        SENTINEL_MASTER,
      )) as [string, string];
      return Number(port);
    },
    stop,
  };
}
