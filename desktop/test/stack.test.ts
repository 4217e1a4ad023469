import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ServiceList, ServiceLogLine, ServiceLogList } from '@taskdock/shared/contract';
import { isAlive } from '@taskdock/shared/node/processes';
import type { RuntimeInfo } from '@taskdock/shared/node/runtime-file';
import { redisCommand } from '../src/supervisor/redis-client.ts';
import type { SupervisorEvent } from '../src/supervisor/supervisor.ts';
import type { Taskdock } from '../src/taskdock.ts';
import { killPids, removeDir, tempDir, waitFor } from './helpers/process.ts';
import { api, readRuntime, testTaskdock } from './helpers/stack.ts';

// One real stack for the file: redis-server, the worker and the backend as child processes.

describe('the stack under the supervisor', () => {
  let dataDir: string;
  let taskdock: Taskdock;
  let runtime: RuntimeInfo;
  const events: SupervisorEvent[] = [];
  /** What Redis said about workers the moment the backend was being started. */
  let workersWhenBackendStarted: Promise<unknown>;
  let redisPongWhenWorkerStarted: Promise<unknown>;

  before(async () => {
    dataDir = await tempDir();
    taskdock = testTaskdock(dataDir);
    taskdock.onEvent((event) => events.push(event));
    taskdock.onEvent((event) => {
      if (event.type !== 'starting') return;
      // Probe Redis with the supervisor's own password (read from the redis.conf it wrote).
      const probe = async (args: string[]) => {
        const conf = await readFile(path.join(dataDir, 'redis', 'redis.conf'), 'utf8');
        const port = Number(/^port (\d+)$/m.exec(conf)?.[1]);
        const password = /^requirepass "(.*)"$/m.exec(conf)?.[1];
        return redisCommand({ host: '127.0.0.1', port, password }, args);
      };
      if (event.service === 'worker') redisPongWhenWorkerStarted = probe(['PING']);
      if (event.service === 'backend') {
        workersWhenBackendStarted = probe(['ZRANGE', 'taskdock:workers', '0', '-1']);
      }
    });
    runtime = await taskdock.start();
  });

  after(async () => {
    const pids = Object.values(taskdock.runtime()?.pids ?? {});
    await taskdock.stop();
    await killPids(pids);
    await removeDir(dataDir);
  });

  test('starts redis, then the worker, then the backend, each after the previous is healthy', async () => {
    const order = events.map((e) => `${e.service}:${e.type}`);
    assert.deepEqual(order, [
      'redis:starting',
      'redis:ready',
      'worker:starting',
      'worker:ready',
      'backend:starting',
      'backend:ready',
    ]);
    assert.equal(
      await redisPongWhenWorkerStarted,
      'PONG',
      'redis answered PING before the worker started',
    );
    const workers = (await workersWhenBackendStarted) as string[];
    assert.equal(workers.length, 1, 'the worker was registered before the backend started');
    assert.match(workers[0] ?? '', new RegExp(`-${runtime.pids.worker}-`));
    for (const event of events) {
      if (event.type === 'ready')
        assert.ok(event.durationMs >= 0 && event.sinceStartMs >= event.durationMs);
    }
  });

  test('runtime.json and the token are as docs/desktop.md says (mode 0600)', async () => {
    const file = path.join(dataDir, 'runtime.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(path.join(dataDir, 'token'))).mode & 0o777, 0o600);
    const onDisk = await readRuntime(dataDir);
    assert.deepEqual(Object.keys(onDisk).sort(), [
      'apiUrl',
      'pids',
      'redis',
      'store',
      'supervisor',
      'token',
      'uiUrl',
    ]);
    // Who wrote it, so a reader can tell it is current (runtime-file.test.ts covers stale ones).
    assert.equal(onDisk.supervisor.pid, process.pid);
    assert.match(onDisk.apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(onDisk.store.mode, 'redis');
    assert.match(onDisk.redis?.url ?? '', /^redis:\/\/:[0-9a-f]{48}@127\.0\.0\.1:\d+$/);
    assert.equal(onDisk.token, (await readFile(path.join(dataDir, 'token'), 'utf8')).trim());
    for (const name of ['redis', 'worker', 'backend'] as const) {
      assert.ok(onDisk.pids[name] && isAlive(onDisk.pids[name] as number), `${name} pid is alive`);
    }
    // The one-time sign-in link, signed with the token (backend/src/plugins/session.ts checks it).
    const login = new URL(onDisk.uiUrl).searchParams.get('login') ?? '';
    const [nonce, signature] = login.split('.');
    assert.ok(onDisk.uiUrl.startsWith(`${onDisk.apiUrl}/?login=`));
    assert.equal(
      signature,
      createHmac('sha256', onDisk.token).update(`taskdock-login:${nonce}`).digest('base64url'),
    );
    assert.notEqual(taskdock.signInUrl(), onDisk.uiUrl, 'each link is new');
  });

  test('redis runs with the configuration docs/desktop.md gives', async () => {
    const redis = new URL(runtime.redis?.url ?? '');
    const target = {
      host: '127.0.0.1',
      port: Number(redis.port),
      password: decodeURIComponent(redis.password),
    };
    const config = async (name: string) =>
      ((await redisCommand(target, ['CONFIG', 'GET', name])) as string[])[1];
    assert.equal(await config('bind'), '127.0.0.1');
    assert.equal(await config('appendonly'), 'yes');
    assert.equal(await config('appendfsync'), 'everysec');
    assert.equal(await config('maxmemory-policy'), 'noeviction');
    assert.equal(await config('dir'), path.join(dataDir, 'redis'));
    await assert.rejects(
      redisCommand({ ...target, password: undefined }, ['PING']),
      /NOAUTH/,
      'a password is required',
    );
  });

  test('GET /api/services lists the supervised services', async () => {
    const { status, body } = await api<ServiceList>(runtime, '/api/services');
    assert.equal(status, 200);
    assert.equal(body.supervised, true);
    assert.deepEqual(
      body.services.map((s) => [s.name, s.status, s.pid, s.restarts]),
      [
        ['redis', 'running', runtime.pids.redis, 0],
        ['worker', 'running', runtime.pids.worker, 0],
        ['backend', 'running', runtime.pids.backend, 0],
      ],
    );
    assert.ok(body.services.every((s) => s.startedAt && s.readyAt && s.lastExit === null));
    assert.equal((await fetch(`${runtime.apiUrl}/api/services`)).status, 401, 'needs the token');
  });

  test('GET /api/logs filters by service, level and text', async () => {
    const worker = await api<ServiceLogList>(runtime, '/api/logs?service=worker&limit=50');
    assert.equal(worker.status, 200);
    assert.ok(worker.body.lines.length > 0);
    assert.ok(worker.body.lines.every((l) => l.service === 'worker'));
    const ready = worker.body.lines.find((l) => l.text === 'worker ready');
    assert.ok(ready, "the worker's pino line is there");
    assert.equal(ready.level, 'info');
    assert.equal(ready.stream, 'stdout');
    assert.ok(ready.fields && typeof ready.fields.workerId === 'string');

    const redisLines = await api<ServiceLogList>(
      runtime,
      '/api/logs?service=redis&q=ready+to+accept',
    );
    assert.deepEqual(
      redisLines.body.lines.filter((l) => l.stream === 'stdout').map((l) => l.text),
      ['Ready to accept connections'],
    );
    const warnings = await api<ServiceLogList>(runtime, '/api/logs?level=warn&limit=500');
    assert.ok(warnings.body.lines.every((l) => ['warn', 'error', 'fatal'].includes(l.level)));
    const limited = await api<ServiceLogList>(runtime, '/api/logs?limit=3');
    assert.equal(limited.body.lines.length, 3);
    const bad = await api<{ error: { code: string } }>(runtime, '/api/logs?level=loud');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'VALIDATION_FAILED');
  });

  test('GET /api/logs/stream sends the backlog, then new lines as they come', async () => {
    const controller = new AbortController();
    const response = await fetch(`${runtime.apiUrl}/api/logs/stream?service=supervisor&limit=5`, {
      headers: { authorization: `Bearer ${runtime.token}` },
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const lines = () =>
      [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1] as string) as ServiceLogLine);
    const readUntil = async (done: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`stream did not deliver in time:\n${text}`);
        const { value } = await reader.read();
        text += decoder.decode(value);
      }
    };
    await readUntil(() => lines().some((l) => l.text.startsWith('ready:')));
    // A new supervisor line appears while we listen.
    taskdock.logs?.system('supervisor', 'info', 'hello from the test');
    await readUntil(() => lines().some((l) => l.text === 'hello from the test'));
    const seqs = lines().map((l) => l.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'in order, no duplicates',
    );
    assert.equal(new Set(seqs).size, seqs.length);
    assert.match(text, /^id: \d+$/m);
    controller.abort();
  });

  test('GET /api/logs/stream resumes after Last-Event-ID', async () => {
    const marks = ['one', 'two', 'three'].map((word) =>
      taskdock.logs?.system('supervisor', 'info', `resume mark ${word}`),
    );
    const controller = new AbortController();
    const response = await fetch(
      `${runtime.apiUrl}/api/logs/stream?service=supervisor&q=resume+mark`,
      {
        headers: {
          authorization: `Bearer ${runtime.token}`,
          'last-event-id': String(marks[0]?.seq),
        },
        signal: controller.signal,
      },
    );
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const deadline = Date.now() + 10_000;
    while (!text.includes('resume mark three')) {
      assert.ok(Date.now() < deadline, `no resume in time:\n${text}`);
      text += decoder.decode((await reader.read()).value);
    }
    controller.abort();
    const sent = [...text.matchAll(/^data: (.*)$/gm)].map(
      (m) => (JSON.parse(m[1] as string) as ServiceLogLine).text,
    );
    assert.deepEqual(sent, ['resume mark two', 'resume mark three']);
  });

  test('a task runs end to end through the supervised stack', async () => {
    const created = await api<{ id: string }>(runtime, '/api/tasks', {
      method: 'POST',
      body: { workflow: 'sleep', params: { ms: 50 } },
    });
    assert.equal(created.status, 201);
    const done = await waitFor('the task to complete', async () => {
      const { body } = await api<{ status: string }>(
        runtime,
        `/api/tasks/${encodeURIComponent(created.body.id)}`,
      );
      return body.status === 'completed' ? body : undefined;
    });
    assert.equal(done.status, 'completed');
  });

  test('the log files are in <dataDir>/logs', async () => {
    for (const name of ['redis', 'worker', 'backend', 'supervisor']) {
      assert.ok(existsSync(path.join(dataDir, 'logs', `${name}.log`)), `${name}.log`);
    }
  });
});
