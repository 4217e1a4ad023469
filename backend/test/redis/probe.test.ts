import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ServiceList } from '@taskdock/shared/contract';
import { createRedisConnection, readRedisConnection } from '@taskdock/shared/node/redis-connection';
import { probeRedis } from '../../src/redis-probe.ts';
import { startBackendProcess } from '../helpers/backend-process.ts';
import { startRedisCluster } from '../helpers/redis-cluster.ts';
import { startRedisServer, type TestRedis } from '../helpers/redis-server.ts';
import { startWorkerProcess } from '../helpers/worker-process.ts';

const TOKEN = 'probe-test-token-0123456789';

describe('the start probe of Redis', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-probe-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  const env = (redis: TestRedis) => ({
    TASKDOCK_DATA_DIR: dataDir,
    TASKDOCK_TOKEN: TOKEN,
    TASKDOCK_REDIS_URL: redis.url,
  });

  test('an evicting maxmemory-policy stops the backend and the worker, with the fix', async () => {
    const redis = await startRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    try {
      const backend = startBackendProcess(env(redis));
      const code = await Promise.race([
        backend.exited,
        new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000)),
      ]);
      if (code === 'timeout') await backend.stop(0);
      assert.equal(code, 78, backend.output());
      const out = backend.output();
      assert.match(out, /maxmemory-policy is \\?"allkeys-lru\\?"/);
      assert.match(out, /CONFIG SET maxmemory-policy noeviction/);
      assert.match(out, /maxmemory-policy noeviction` in redis\.conf/);
      await assert.rejects(backend.listening, /exited \(78\)/);

      const worker = startWorkerProcess({ ...env(redis), TASKDOCK_WORKFLOWS: 'sleep' });
      await assert.rejects(worker.ready, /exited \(78\)/);
      assert.match(worker.output(), /CONFIG SET maxmemory-policy noeviction/);
    } finally {
      await redis.stop();
    }
  });

  test('noeviction starts; the services answer shows version, policy, AOF and topology', async () => {
    const redis = await startRedisServer({ password: 'probe-pass-0123' });
    const backend = startBackendProcess(
      {
        TASKDOCK_DATA_DIR: dataDir,
        TASKDOCK_TOKEN: TOKEN,
      },
      { TASKDOCK_REDIS_URL: redis.url },
    );
    try {
      const url = await backend.listening;
      const res = await fetch(`${url}/api/services`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as ServiceList;
      assert.ok(body.redis, JSON.stringify(body));
      assert.match(body.redis.version, /^\d+\.\d+\.\d+$/);
      assert.equal(body.redis.maxmemoryPolicy, 'noeviction');
      assert.equal(body.redis.topology, 'standalone');
      assert.equal(body.redis.role, 'master');
      assert.equal(body.redis.aof, false);
      assert.match(body.redis.warnings.join('\n'), /AOF is off/);
      assert.equal(
        body.redis.connection,
        `redis://127.0.0.1:${redis.port}/0 as default (password set)`,
      );
      // The warning is in the log too, and the password in neither.
      assert.match(backend.output(), /AOF is off/);
      assert.doesNotMatch(backend.output() + JSON.stringify(body), /probe-pass-0123/);
    } finally {
      await backend.stop();
      await redis.stop();
    }
  });

  test('the Cluster form: the factory makes a Cluster client, the probe checks every primary', async () => {
    const cluster = await startRedisCluster(3);
    const { spec, problems } = readRedisConnection({ TASKDOCK_REDIS_CLUSTER: cluster.seeds });
    assert.deepEqual(problems, []);
    assert.ok(spec);
    const client = createRedisConnection(spec, { connectionName: 'taskdock-probe-test' });
    try {
      const found = await probeRedis(client, spec);
      assert.equal(found.topology, 'cluster');
      assert.equal(found.primaries, 3);
      assert.equal(found.maxmemoryPolicy, 'noeviction');
      // One primary that evicts is enough to refuse.
      await cluster.nodes[2]?.client().config('SET', 'maxmemory-policy', 'volatile-lru');
      await assert.rejects(probeRedis(client, spec), /maxmemory-policy is "volatile-lru"/);
    } finally {
      client.disconnect();
      await cluster.stop();
    }
  });
});
