import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { ServiceList, Task } from '@taskdock/shared/contract';
import { freePort } from '@taskdock/shared/node/ports';
import { redisPing } from '../src/supervisor/redis-client.ts';
import { killPids, removeDir, tempDir, waitFor } from './helpers/process.ts';
import { api, testTaskdock } from './helpers/stack.ts';

const PASSWORD = 'forms-test-password-0123456789';
const hasSentinel = spawnSync('redis-sentinel', ['--version'], { stdio: 'ignore' }).status === 0;
const skip =
  process.platform !== 'linux'
    ? 'reads /proc'
    : !hasSentinel && !process.env.CI
      ? 'redis-sentinel is not installed (Debian: apt-get install redis-sentinel); .ci/run installs it'
      : false;

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

test('the Sentinel form under the supervisor: no redis-server of ours, the form reaches every child, the password only on the pipe', {
  skip,
  timeout: 120_000,
}, async () => {
  const dir = await tempDir();
  const redisDir = await tempDir();
  const redisPort = await freePort();
  const sentinelPort = await freePort();
  // The password is in config files, not on any command line.
  await writeFile(
    path.join(redisDir, 'redis.conf'),
    `port ${redisPort}\nbind 127.0.0.1\nsave ""\ndir ${redisDir}\nrequirepass ${PASSWORD}\n`,
  );
  await writeFile(
    path.join(redisDir, 'sentinel.conf'),
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${redisDir}`,
      `sentinel monitor forms 127.0.0.1 ${redisPort} 1`,
      `sentinel auth-pass forms ${PASSWORD}`,
      '',
    ].join('\n'),
  );
  const server = spawn('redis-server', [path.join(redisDir, 'redis.conf')], { stdio: 'ignore' });
  const sentinel = spawn('redis-sentinel', [path.join(redisDir, 'sentinel.conf')], {
    stdio: 'ignore',
  });
  const taskdock = testTaskdock(dir, {
    env: {
      TASKDOCK_REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`,
      TASKDOCK_REDIS_SENTINEL_NAME: 'forms',
      TASKDOCK_REDIS_PASSWORD: PASSWORD,
    },
  });
  try {
    await waitFor('the redis-server', () =>
      redisPing({ host: '127.0.0.1', port: redisPort, password: PASSWORD }).then(() => true),
    );
    await waitFor('the sentinel', () =>
      redisPing({ host: '127.0.0.1', port: sentinelPort }).then(() => true),
    );
    const runtime = await taskdock.start();
    assert.equal(runtime.pids.redis, null, 'no redis-server of ours');
    assert.equal(runtime.store.reason, 'TASKDOCK_REDIS_SENTINELS is set');
    const { body } = await api<ServiceList>(runtime, '/api/services');
    assert.deepEqual(
      body.services.map((s) => [s.name, s.status]),
      [
        ['redis', 'external'],
        ['worker', 'running'],
        ['backend', 'running'],
      ],
    );
    assert.equal(body.redis?.topology, 'sentinel');
    assert.equal(
      body.redis?.connection,
      `Sentinel master "forms" via 127.0.0.1:${sentinelPort} as default (password set)`,
    );

    const created = await api<Task>(runtime, '/api/tasks', {
      method: 'POST',
      body: { workflow: 'sleep', params: { ms: 10 } },
    });
    assert.equal(created.status, 201);
    const id = encodeURIComponent(created.body.id);
    const task = await waitFor('the task to complete', async () => {
      const { body: t } = await api<Task>(runtime, `/api/tasks/${id}`);
      return t.status === 'completed' ? t : undefined;
    });
    assert.equal(task.status, 'completed');

    const proc = (pid: number | null, file: string) =>
      readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0').join('\n');
    for (const service of ['worker', 'backend'] as const) {
      const environ = proc(runtime.pids[service], 'environ');
      assert.match(
        environ,
        new RegExp(`^TASKDOCK_REDIS_SENTINELS=127\\.0\\.0\\.1:${sentinelPort}$`, 'm'),
      );
      assert.match(environ, /^TASKDOCK_REDIS_SENTINEL_NAME=forms$/m);
      assert.doesNotMatch(environ, /TASKDOCK_REDIS_PASSWORD/);
      assert.ok(!environ.includes(PASSWORD), `${service} environ holds the password`);
      assert.ok(!proc(runtime.pids[service], 'cmdline').includes(PASSWORD));
    }
    for (const name of await readdir(path.join(dir, 'logs'))) {
      const text = await readFile(path.join(dir, 'logs', name), 'utf8');
      assert.ok(!text.includes(PASSWORD), `${name} holds the password`);
    }
  } finally {
    const pids = Object.values(taskdock.runtime()?.pids ?? {});
    await taskdock.stop();
    await killPids(pids);
    await stopChild(sentinel);
    await stopChild(server);
    await removeDir(dir);
    await removeDir(redisDir);
  }
});
