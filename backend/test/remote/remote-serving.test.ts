import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RemoteServingStatus } from '@taskdock/shared/contract';
import { createRemoteServing } from '../../src/remote/remote-serving.ts';
import { loadServing } from '../../src/serving.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { workerToken } from './remote-helpers.ts';

const serving = (env: Record<string, string>) => {
  const problems: string[] = [];
  const loaded = loadServing(env, problems);
  assert.deepEqual(problems, []);
  return loaded;
};

describe('the remote workers setting: GET/PUT /api/remote-serving', () => {
  let stack: TestStack;
  let dataDir: string;
  let restarts = 0;
  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-remote-serving-'));
    stack = await startStack({
      worker: false,
      remote: {},
      // As under the supervisor: loopback, nobody chose otherwise; a restart is asked for.
      remoteServing: createRemoteServing({
        serving: serving({}),
        dataDir,
        port: 8787,
        hostName: 'gpu-host',
        available: true,
        restartBackend: () => restarts++,
      }),
    });
  });
  after(async () => {
    await stack.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('off by default: loopback only, no URL, the setting off', async () => {
    const res = await stack.request({ method: 'GET', url: '/api/remote-serving' });
    assert.equal(res.statusCode, 200, res.body);
    const status = res.json<RemoteServingStatus>();
    assert.equal(status.active, false);
    assert.equal(status.url, null);
    assert.equal(status.supervised, true);
    assert.equal(status.available, true);
    assert.equal(status.source, 'default');
    assert.deepEqual(status.setting, { enabled: false, allowPlaintext: false });
  });

  test('on without TLS needs the plaintext opt-in: 400 at that field, nothing saved', async () => {
    const res = await stack.request({
      method: 'PUT',
      url: '/api/remote-serving',
      payload: { enabled: true, allowPlaintext: false },
    });
    assert.equal(res.statusCode, 400, res.body);
    const body = res.json<{ error: { details: { path: string }[] } }>();
    assert.deepEqual(
      body.error.details.map((d) => d.path),
      ['/body/allowPlaintext'],
    );
    assert.equal(restarts, 0);
    await assert.rejects(stat(path.join(dataDir, 'remote-workers.json')));
  });

  test('with the opt-in it is saved (user-only file) and the backend restart is asked for', async () => {
    const res = await stack.request({
      method: 'PUT',
      url: '/api/remote-serving',
      payload: { enabled: true, allowPlaintext: true, publicUrl: 'http://gpu-host.lan:8787' },
    });
    assert.equal(res.statusCode, 200, res.body);
    const status = res.json<RemoteServingStatus>();
    assert.equal(status.restarting, true);
    assert.equal(status.active, false, 'still loopback until the restart');
    assert.deepEqual(status.setting, {
      enabled: true,
      allowPlaintext: true,
      publicUrl: 'http://gpu-host.lan:8787',
    });
    assert.equal(restarts, 1);
    const file = path.join(dataDir, 'remote-workers.json');
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), status.setting);
    if (process.platform !== 'win32') assert.equal((await stat(file)).mode & 0o777, 0o600);
  });

  test('a worker token may not read or change it', async () => {
    const { token } = await workerToken(stack, 'box');
    const read = await stack.request({ method: 'GET', url: '/api/remote-serving', token });
    assert.equal(read.statusCode, 403, read.body);
    const write = await stack.request({
      method: 'PUT',
      url: '/api/remote-serving',
      payload: { enabled: false, allowPlaintext: false },
      token,
    });
    assert.equal(write.statusCode, 403, write.body);
  });

  test('TASKDOCK_HOST in the environment wins: 409 SET_BY_ENVIRONMENT', async () => {
    const control = createRemoteServing({
      serving: serving({
        TASKDOCK_HOST: '0.0.0.0',
        TASKDOCK_ALLOWED_HOSTS: 'gpu-host',
        TASKDOCK_ALLOW_PLAINTEXT: '1',
      }),
      dataDir,
      port: 8787,
      hostName: 'gpu-host',
      available: true,
      restartBackend: () => restarts++,
    });
    const status = control.status();
    assert.equal(status.source, 'env');
    assert.equal(status.active, true);
    assert.equal(status.url, 'http://gpu-host:8787');
    assert.equal(status.plaintext, true);
    await assert.rejects(control.save({ enabled: false, allowPlaintext: false }), {
      code: 'SET_BY_ENVIRONMENT',
    });
  });

  test('TLS files in force: on needs no opt-in, and the URL is https', async () => {
    const control = createRemoteServing({
      serving: serving({
        TASKDOCK_TLS_CERT: '/etc/taskdock/cert.pem',
        TASKDOCK_TLS_KEY: '/etc/taskdock/key.pem',
      }),
      dataDir,
      port: 8787,
      hostName: 'gpu-host',
      available: true,
      restartBackend: () => restarts++,
    });
    const saved = await control.save({ enabled: true, allowPlaintext: false });
    assert.equal(saved.restarting, true);
    const after = createRemoteServing({
      serving: serving({
        TASKDOCK_HOST: '0.0.0.0',
        TASKDOCK_ALLOWED_HOSTS: 'gpu-host',
        TASKDOCK_SERVING_SOURCE: 'setting',
        TASKDOCK_TLS_CERT: '/etc/taskdock/cert.pem',
        TASKDOCK_TLS_KEY: '/etc/taskdock/key.pem',
      }),
      dataDir,
      port: 8787,
      hostName: 'gpu-host',
      available: true,
      restartBackend: () => restarts++,
    }).status();
    assert.equal(after.source, 'setting');
    assert.equal(after.url, 'https://gpu-host:8787');
    assert.equal(after.plaintext, false);
  });

  test('memory mode serves no leases: the setting cannot be turned on', async () => {
    const control = createRemoteServing({
      serving: serving({}),
      dataDir,
      port: 8787,
      hostName: 'gpu-host',
      available: false,
      restartBackend: () => restarts++,
    });
    assert.equal(control.status().available, false);
    const before = restarts;
    await assert.rejects(control.save({ enabled: true, allowPlaintext: true }), {
      code: 'NOT_SUPPORTED',
    });
    assert.equal(restarts, before);
  });

  test('without a supervisor nothing can apply it: 501', async () => {
    const control = createRemoteServing({
      serving: serving({}),
      dataDir,
      port: 8787,
      hostName: 'gpu-host',
      available: true,
      restartBackend: undefined,
    });
    assert.equal(control.status().supervised, false);
    await assert.rejects(control.save({ enabled: true, allowPlaintext: true }), {
      code: 'NOT_SUPPORTED',
    });
  });
});
