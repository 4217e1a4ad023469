import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { ServiceList } from '@taskdock/shared/contract';
import { freePort } from '@taskdock/shared/node/ports';
import { redisPing } from '../src/supervisor/redis-client.ts';
import { killPids, removeDir, tempDir, waitFor } from './helpers/process.ts';
import { api, testTaskdock } from './helpers/stack.ts';

test('TASKDOCK_REDIS_URL: no redis-server is started; redis shows as external', async () => {
  const dir = await tempDir();
  const redisDir = await tempDir();
  const port = await freePort();
  const server = spawn(
    process.env.TASKDOCK_REDIS_SERVER || 'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', redisDir],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const taskdock = testTaskdock(dir, { env: { TASKDOCK_REDIS_URL: url } });
  try {
    await waitFor('the external redis', () =>
      redisPing({ host: '127.0.0.1', port }).then(() => true),
    );
    const runtime = await taskdock.start();
    assert.equal(runtime.redis?.url, url);
    assert.equal(runtime.pids.redis, null);
    assert.equal(existsSync(path.join(dir, 'redis')), false, 'no redis dir, no config written');
    const { body } = await api<ServiceList>(runtime, '/api/services');
    assert.deepEqual(
      body.services.map((s) => [s.name, s.status]),
      [
        ['redis', 'external'],
        ['worker', 'running'],
        ['backend', 'running'],
      ],
    );
  } finally {
    await taskdock.stop();
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL');
      await once(server, 'exit');
    }
    await killPids([server.pid]);
    await removeDir(dir);
    await removeDir(redisDir);
  }
});
