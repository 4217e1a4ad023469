import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { scanKeys } from '@taskdock/shared/node/redis-connection';
import { KEY_PREFIXES, useKeyPrefix } from '../../src/tasks/keys.ts';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.ts';
import { startStack } from '../helpers/stack.ts';
import { engineContract } from './contract-suite.ts';

// The engine contract on a 3-primary Redis Cluster, with the keys under the Cluster's hash tag
// as the backend and worker lay them out when TASKDOCK_REDIS_CLUSTER is set.
useKeyPrefix(KEY_PREFIXES.cluster);

// Each engine the suite makes gets its own cluster; all are checked, then stopped.
const clusters: TestRedisCluster[] = [];
after(() => Promise.all(clusters.map((c) => c.stop())));

engineContract('redis cluster', async (settings) => {
  const cluster = await startRedisCluster(3);
  clusters.push(cluster);
  const stack = await startStack({ redis: cluster, worker: { ...settings } });
  return { engine: stack.engine, close: () => stack.close() };
});

test('no command of the suite failed with CROSSSLOT on any primary', async () => {
  assert.ok(clusters.length > 0, 'the suite ran on a cluster');
  for (const node of clusters.flatMap((c) => c.nodes)) {
    const info = (await node.client().info('errorstats')) as string;
    assert.doesNotMatch(info, /errorstat_CROSSSLOT/, `node ${node.port}: ${info}`);
  }
});

test('a key scan sees the keys of every primary, not one node', async () => {
  const cluster = clusters[0];
  assert.ok(cluster);
  const client = cluster.client();
  // Without a hash tag these land in slots all over the cluster.
  const names = Array.from({ length: 30 }, (_, i) => `scan-probe:${i}`);
  await Promise.all(names.map((name) => client.set(name, '1')));
  const seen: string[] = [];
  for await (const keys of scanKeys(client, 'scan-probe:*')) seen.push(...keys);
  assert.deepEqual(seen.sort(), [...names].sort());
  const perNode = await Promise.all(cluster.nodes.map((n) => n.client().dbsize()));
  assert.ok(perNode.filter((n) => n > 0).length > 1, `keys on more than one node: ${perNode}`);
});
