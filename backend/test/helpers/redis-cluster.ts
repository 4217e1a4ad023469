import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { startRedisServer, type TestRedis } from './redis-server.ts';

const run = promisify(execFile);

export interface TestRedisCluster {
  /** The primaries, each a real redis-server in cluster mode on a loopback port. */
  readonly nodes: readonly TestRedis[];
  /** `host:port,…` of the primaries, as TASKDOCK_REDIS_CLUSTER takes them. */
  readonly seeds: string;
  /** A fresh Cluster client (closed by `stop`); BullMQ workers need maxRetriesPerRequest null. */
  client(): Cluster;
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of `primaries` real redis-servers made with `redis-cli --cluster create`, no
 * replicas; ready when every node says `cluster_state:ok`. `stop` kills each server by its pid.
 * `args` go to every redis-server (the bench turns AOF on, as the app's own server has it).
 */
export async function startRedisCluster(
  primaries = 3,
  args: readonly string[] = [],
): Promise<TestRedisCluster> {
  const nodes: TestRedis[] = [];
  const clients: Cluster[] = [];
  const stop = async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    for (let i = 0; i < primaries; i++) {
      nodes.push(
        await startRedisServer({
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', ...args],
        }),
      );
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-yes'], {
      timeout: 30_000,
    });
    await waitForClusterOk(nodes);
    const seeds = addresses.join(',');
    return {
      nodes,
      seeds,
      client() {
        const client = new Cluster(
          nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
          { redisOptions: { maxRetriesPerRequest: null } },
        );
        clients.push(client);
        return client;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitForClusterOk(nodes: readonly TestRedis[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  const probes = nodes.map((n) => n.client());
  for (;;) {
    const infos = await Promise.all(probes.map((p) => p.cluster('INFO') as Promise<string>));
    if (infos.every((info) => info.includes('cluster_state:ok'))) return;
    if (Date.now() > deadline) throw new Error(`the cluster did not become ok:\n${infos[0]}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
