import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { ServiceList, Stats } from '@taskdock/shared/contract';
import type { RuntimeInfo } from '@taskdock/shared/node/runtime-file';
import type { Taskdock } from '../src/taskdock.ts';
import { killPids, removeDir, tempDir, waitFor } from './helpers/process.ts';
import { api, testTaskdock } from './helpers/stack.ts';

// Every class of malformed input from the hardening issue, sent over real sockets to the stack
// the supervisor runs: each gets a 4xx in our error shape, runs nothing, and no service restarts.

interface RawResponse {
  readonly status: number;
  readonly body: string;
}

/** One HTTP/1.1 request written verbatim, so no client library normalises the path first. */
function rawRequest(port: number, head: string, body = ''): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.on('data', (chunk) => {
      data += chunk;
    });
    // A server that refuses early (431, 413) may close while the rest is still being written.
    socket.on('error', (err) => {
      if (data === '') reject(err);
    });
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1]);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
    socket.write(`${head}\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n`);
    socket.write(body ? `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}` : '\r\n');
  });
}

const json = (method: string, path: string, value: unknown, token?: string) => {
  const body = typeof value === 'string' ? value : JSON.stringify(value);
  const auth = token ? `\r\nAuthorization: Bearer ${token}` : '';
  return [`${method} ${path} HTTP/1.1${auth}\r\nContent-Type: application/json`, body] as const;
};

describe('a hostile or careless client against the supervised stack', () => {
  let dataDir: string;
  let taskdock: Taskdock;
  let runtime: RuntimeInfo;
  let port: number;

  before(async () => {
    dataDir = await tempDir();
    taskdock = testTaskdock(dataDir);
    runtime = await taskdock.start();
    port = Number(new URL(runtime.apiUrl).port);
    // A few finished tasks, so totals have something to lose.
    for (let i = 0; i < 3; i++) {
      const created = await api<{ id: string }>(runtime, '/api/tasks', {
        method: 'POST',
        body: { workflow: 'sleep', params: { ms: 1 } },
      });
      assert.equal(created.status, 201);
    }
  });

  after(async () => {
    const pids = Object.values(taskdock.runtime()?.pids ?? {});
    await taskdock.stop();
    await killPids(pids);
    await removeDir(dataDir);
  });

  test('gets a 4xx in our error shape for every probe, and nothing restarts or changes', async () => {
    const token = runtime.token;
    const sleep = { workflow: 'sleep', params: { ms: 1 } };
    const totalsBefore = await waitFor('the three tasks to complete', async () => {
      const { totals } = (await api<Stats>(runtime, '/api/stats')).body;
      return totals.completed === 3 && totals;
    });
    const deep = `{"workflow":"sleep","params":{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`;
    const probes: [string, readonly [string, string?]][] = [
      [
        'encoded /api without a token',
        json('POST', '/%61pi/tasks', { workflow: 'sleep', params: { ms: 1 } }),
      ],
      ['encoded /metrics without a token', [`GET /%6Detrics HTTP/1.1`]],
      ['double-encoded slash', [`GET /api%252Ftasks HTTP/1.1`]],
      ['dot segment', [`GET /./api/tasks HTTP/1.1`]],
      [
        'internal key as a task id',
        [`DELETE /api/tasks/stats:totals HTTP/1.1\r\nAuthorization: Bearer ${token}`],
      ],
      [
        'relay positions as a task id',
        [`DELETE /api/tasks/relay:positions HTTP/1.1\r\nAuthorization: Bearer ${token}`],
      ],
      [
        'queue events stream as a task id',
        [`GET /api/tasks/sleep:events HTTP/1.1\r\nAuthorization: Bearer ${token}`],
      ],
      ['10,000-level nested params', json('POST', '/api/tasks', deep, token)],
      [
        "priority past BullMQ's limit",
        json('POST', '/api/tasks', { ...sleep, priority: 2_097_152 }, token),
      ],
      ['priority as a string', json('POST', '/api/tasks', { ...sleep, priority: '5' }, token)],
      ['owner as a number', json('POST', '/api/tasks', { ...sleep, owner: 123 }, token)],
      [
        'runAt in ten years',
        json('POST', '/api/tasks', { ...sleep, runAt: '2036-12-01T00:00:00Z' }, token),
      ],
      [
        'NUL in a shell argument',
        json(
          'POST',
          '/api/tasks',
          { workflow: 'shell', params: { command: 'echo', args: ['a\u0000b'] } },
          token,
        ),
      ],
      [
        '= in a shell env key',
        json(
          'POST',
          '/api/tasks',
          { workflow: 'shell', params: { command: 'env', env: { 'A=B': '1' } } },
          token,
        ),
      ],
      [
        'bad http header name',
        json(
          'POST',
          '/api/tasks',
          {
            workflow: 'http',
            params: { url: 'http://127.0.0.1:1/', headers: { 'bad header': 'x' } },
          },
          token,
        ),
      ],
      [
        'blank cron pattern',
        json('PUT', '/api/schedules/blank', { ...sleep, pattern: ' ' }, token),
      ],
      [
        'bad percent-encoding',
        [`GET /api/tasks/%E0%A4%A HTTP/1.1\r\nAuthorization: Bearer ${token}`],
      ],
      [
        'a 9 KiB URL',
        [`GET /api/tasks?q=${'a'.repeat(9_000)} HTTP/1.1\r\nAuthorization: Bearer ${token}`],
      ],
      // Just over the 16 KiB limit: the server reads it all before answering, so its close
      // cannot reset the connection before the answer arrives.
      ['17 KiB of headers', [`GET /api/tasks HTTP/1.1\r\nX-Big: ${'b'.repeat(17_000)}`]],
      [
        'an unknown content type',
        [
          `POST /api/tasks HTTP/1.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: text/x-nope`,
          'x',
        ],
      ],
      [
        'Last-Event-ID that is not ours',
        [`GET /api/events HTTP/1.1\r\nAuthorization: Bearer ${token}\r\nLast-Event-ID: nope`],
      ],
    ];
    for (const [what, [head, body]] of probes) {
      const response = await rawRequest(port, head, body);
      assert.ok(
        response.status >= 400 && response.status < 500,
        `${what}: expected a 4xx, got ${response.status} ${response.body.slice(0, 200)}`,
      );
      const parsed = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } };
      assert.equal(typeof parsed.error?.code, 'string', `${what}: ${response.body.slice(0, 200)}`);
      assert.equal(
        typeof parsed.error?.message,
        'string',
        `${what}: ${response.body.slice(0, 200)}`,
      );
    }

    const services = (await api<ServiceList>(runtime, '/api/services')).body.services;
    for (const service of services) {
      assert.equal(service.restarts, 0, `${service.name} restarted`);
      assert.equal(service.status, 'running', `${service.name} is ${service.status}`);
    }
    const after = await api<Stats>(runtime, '/api/stats');
    assert.deepEqual(after.body.totals, totalsBefore, 'totals changed');
    const listed = await api<{ items: unknown[] }>(runtime, '/api/tasks?limit=50');
    assert.equal(listed.body.items.length, 3, 'a probe queued a task');
  });
});
