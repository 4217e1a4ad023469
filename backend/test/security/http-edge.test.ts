import assert from 'node:assert/strict';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  type ServiceLogLine,
  type ServiceLogQuery,
  serviceLogMatches,
} from '@taskdock/shared/contract';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import {
  DEFAULT_HTTP_LIMITS,
  HEADERS_TIMEOUT_MS,
  type HttpLimits,
  MAX_HEADER_BYTES,
  MAX_JSON_DEPTH,
  MAX_PARAM_LENGTH,
  MAX_URL_LENGTH,
  REQUEST_TIMEOUT_MS,
  SSE_MAX_UNSENT_BYTES,
  SSE_STALL_BYTES,
  SSE_STALL_MS,
  TIMEOUT_CHECK_INTERVAL_MS,
} from '../../src/http-limits.ts';
import type { SupervisionSource } from '../../src/supervision/ipc-supervision.ts';
import { EVENTS_KEY } from '../../src/tasks/keys.ts';
import { waitUntil } from '../helpers/processes.ts';
import {
  connectRaw,
  parseRawAnswer,
  type RawResponse,
  rawRequest,
  readUntilClosed,
} from '../helpers/raw-http.ts';
import { connectSse } from '../helpers/sse-client.ts';
import { startStack, TEST_TOKEN, type TestStack } from '../helpers/stack.ts';

const AUTH = { authorization: `Bearer ${TEST_TOKEN}` };
const JSON_HEADERS = { ...AUTH, 'content-type': 'application/json' };

function assertError(res: { status: number; json: unknown }, status: number, code: string) {
  assert.equal(res.status, status, JSON.stringify(res.json));
  const { error } = res.json as { error: { code: string; message: string } };
  assert.equal(error.code, code, JSON.stringify(res.json));
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
}
const asJson = (res: RawResponse) => ({ status: res.status, json: JSON.parse(res.body) });

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}

const connections = (app: FastifyInstance) =>
  new Promise<number>((resolve, reject) =>
    app.server.getConnections((err, count) => (err ? reject(err) : resolve(count))),
  );

/** Sends `request` on a fresh socket and reads until the server closes it. */
async function rawExchange(port: number, request: string | Buffer, timeoutMs = 10_000) {
  const socket = await connectRaw(port);
  const answer = readUntilClosed(socket, timeoutMs);
  socket.write(request);
  return parseRawAnswer(await answer);
}

describe('the HTTP edge: limits, timeouts and error shapes', () => {
  let stack: TestStack;
  /** The app as `server.ts` builds it (default limits), listening. */
  let app: FastifyInstance;
  let port: number;
  const extraApps: FastifyInstance[] = [];

  /** A POST /api/tasks with this body, JSON headers and the token unless others are given. */
  const postTask = (body: string, headers: Record<string, string> = JSON_HEADERS) =>
    rawRequest(port, { method: 'POST', path: '/api/tasks', headers, body });

  /** Another app on the same stack with some limits changed, listening. */
  async function appWith(httpLimits: Partial<HttpLimits>, supervision?: SupervisionSource) {
    const other = await buildApp({ ...stack.app.deps, httpLimits, supervision });
    extraApps.push(other);
    return { app: other, port: await listen(other) };
  }

  before(async () => {
    stack = await startStack();
    app = await buildApp(stack.app.deps);
    port = await listen(app);
  });
  after(async () => {
    for (const other of extraApps) await other.close();
    await app.close();
    await stack.close();
  });

  test('the defaults are the stated limits, and the server runs with them', () => {
    assert.deepEqual(DEFAULT_HTTP_LIMITS, {
      maxUrlLength: 8192,
      maxParamLength: 1024,
      maxHeaderBytes: 16_384,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      timeoutCheckIntervalMs: 1000,
      maxJsonDepth: 64,
      sseMaxUnsentBytes: 1_048_576,
      sseStallBytes: 65_536,
      sseStallMs: 30_000,
    });
    assert.deepEqual(
      [MAX_URL_LENGTH, MAX_PARAM_LENGTH, MAX_HEADER_BYTES, HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS],
      [8192, 1024, 16_384, 10_000, 30_000],
    );
    assert.deepEqual(
      [
        TIMEOUT_CHECK_INTERVAL_MS,
        MAX_JSON_DEPTH,
        SSE_MAX_UNSENT_BYTES,
        SSE_STALL_BYTES,
        SSE_STALL_MS,
      ],
      [1000, 64, 1_048_576, 65_536, 30_000],
    );
    assert.equal(app.server.requestTimeout, REQUEST_TIMEOUT_MS);
    assert.equal(app.server.headersTimeout, HEADERS_TIMEOUT_MS);
    // Set from the server options (Node has it, @types/node does not list it).
    assert.equal((app.server as { maxHeaderSize?: number }).maxHeaderSize, MAX_HEADER_BYTES);
  });

  test('a bad %-escape is a 400 in our shape, with or without the token', async () => {
    for (const path of ['/api/tasks/%zz', '/%E0%A4%A/api', '/api/tasks/a%']) {
      assertError(asJson(await rawRequest(port, { method: 'GET', path })), 400, 'BAD_URL');
      assertError(
        asJson(await rawRequest(port, { method: 'GET', path, headers: AUTH })),
        400,
        'BAD_URL',
      );
    }
  });

  test('a URL or a path segment past its limit is a 414; a 300-character id is not', async () => {
    const longQuery = `/api/tasks?q=${'a'.repeat(MAX_URL_LENGTH)}`;
    assertError(
      asJson(await rawRequest(port, { method: 'GET', path: longQuery, headers: AUTH })),
      414,
      'URL_TOO_LONG',
    );
    const longId = `/api/tasks/sleep:${'1'.repeat(MAX_PARAM_LENGTH + 1)}`;
    assertError(
      asJson(await rawRequest(port, { method: 'GET', path: longId, headers: AUTH })),
      414,
      'URL_TOO_LONG',
    );
    // The longest task id Taskdock makes reaches the route (unknown: 404, or refused by schema).
    const id = `/api/tasks/sleep:${'1'.repeat(294)}`;
    const answer = asJson(await rawRequest(port, { method: 'GET', path: id, headers: AUTH }));
    assert.ok([400, 404].includes(answer.status), JSON.stringify(answer.json));
    assert.doesNotMatch(answer.json.error.message, /No route/);
  });

  test('headers past the limit are a 431 in our shape, written by the server itself', async () => {
    const answer = await rawExchange(
      port,
      `GET /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(MAX_HEADER_BYTES)}\r\n\r\n`,
    );
    assertError(answer, 431, 'HEADERS_TOO_LARGE');
  });

  test('bytes that are not HTTP get a 400 in our shape', async () => {
    assertError(await rawExchange(port, 'HELLO THERE\r\n\r\n'), 400, 'BAD_REQUEST');
    assertError(
      await rawExchange(port, 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n'),
      400,
      'BAD_REQUEST',
    );
  });

  test('a body of another type is a 415, broken JSON a 400, too large a 413', async () => {
    assertError(
      asJson(await postTask('<task/>', { ...AUTH, 'content-type': 'application/xml' })),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    assertError(asJson(await postTask('{"workflow":')), 400, 'INVALID_JSON');
    assertError(
      asJson(await postTask('{"workflow":"sleep","params":{"__proto__":{"x":1}}}')),
      400,
      'INVALID_JSON',
    );
    assertError(
      asJson(await postTask(`{"x":"${'a'.repeat(1024 * 1024)}"}`)),
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });

  test('JSON nested past the limit is a 400 naming where, before validation; the server lives', async () => {
    const deep = `{"workflow":"sleep","params":{"ms":1,"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`;
    const res = asJson(await postTask(deep));
    assertError(res, 400, 'JSON_TOO_DEEP');
    // The body is level 1, params 2, x 3: level 65 is 62 arrays into x.
    const [detail] = res.json.error.details as { path: string; message: string }[];
    assert.equal(detail?.path, `/body/params/x${'/0'.repeat(MAX_JSON_DEPTH - 2)}`);
    assert.match(detail?.message ?? '', /deeper than 64 levels/);

    // Keys are escaped in the pointer; exactly at the limit is not refused for depth.
    const slashed = `{"params":{"a/b":${'{"k~":'.repeat(MAX_JSON_DEPTH)}1${'}'.repeat(MAX_JSON_DEPTH)}}}`;
    const named = asJson(await postTask(slashed));
    assert.match(named.json.error.details[0].path, /^\/body\/params\/a~1b\/k~0\/k~0/);
    const atLimit = `{"workflow":"sleep","params":{"ms":1,"x":${'['.repeat(MAX_JSON_DEPTH - 2)}${']'.repeat(MAX_JSON_DEPTH - 2)}}}`;
    const fine = asJson(await postTask(atLimit));
    assert.notEqual(fine.json.error?.code, 'JSON_TOO_DEEP', JSON.stringify(fine.json));

    const health = await rawRequest(port, { method: 'GET', path: '/api/health' });
    assert.equal(health.status, 200);
  });

  test('slow-loris: half a body or half the headers is cut off with a 408 within the bound', async () => {
    const limits = { headersTimeoutMs: 400, requestTimeoutMs: 800, timeoutCheckIntervalMs: 100 };
    const slow = await appWith(limits);

    const timed = async (request: string) => {
      const started = Date.now();
      const answer = await rawExchange(slow.port, request, 5000);
      return { answer, ms: Date.now() - started };
    };
    const halfBody = await timed(
      'POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        `Authorization: Bearer ${TEST_TOKEN}\r\nContent-Length: 100\r\n\r\n{"workflow":`,
    );
    assertError(halfBody.answer, 408, 'REQUEST_TIMEOUT');
    const bound = limits.requestTimeoutMs + limits.timeoutCheckIntervalMs + 500;
    assert.ok(halfBody.ms < bound, `closed after ${halfBody.ms} ms (bound ${bound})`);

    const halfHeaders = await timed('GET /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    assertError(halfHeaders.answer, 408, 'REQUEST_TIMEOUT');
    assert.ok(halfHeaders.ms < bound, `closed after ${halfHeaders.ms} ms (bound ${bound})`);

    // An SSE response is not a slow request: it outlives those timeouts and still delivers.
    const sse = await connectSse(`http://127.0.0.1:${slow.port}/api/events`, AUTH);
    try {
      await new Promise((r) => setTimeout(r, limits.requestTimeoutMs * 2));
      await stack.client.xadd(EVENTS_KEY, '*', 'type', 'probe', 'taskId', 'x', 'data', '{}');
      await sse.waitFor((events) => events.some((e) => e.event === 'probe'), 5000);
    } finally {
      sse.close();
    }
  });

  /**
   * Opens /api/events on a raw socket, reads the head, then stops reading; a second client
   * reads normally. Events are added until the server lets go of the paused connection
   * (more than the kernel buffers of a loopback connection hold must be sent first).
   */
  async function pausedReader(limits: Partial<HttpLimits>) {
    const edge = await appWith(limits);
    const paused: Socket = await connectRaw(edge.port);
    const head = new Promise<void>((resolve) => paused.once('data', () => resolve()));
    paused.write(
      `GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TEST_TOKEN}\r\n\r\n`,
    );
    await head;
    paused.pause();
    const reader = await connectSse(`http://127.0.0.1:${edge.port}/api/events`, AUTH);
    assert.ok(await waitUntil(async () => (await connections(edge.app)) === 2, 5000));

    const payload = JSON.stringify({ fill: 'x'.repeat(8 * 1024) });
    const deadline = Date.now() + 20_000;
    let count = 0;
    let cutOff = false;
    while (!cutOff && Date.now() < deadline && count * payload.length < 200 * 1024 ** 2) {
      for (let i = 0; i < 50; i++, count++) {
        await stack.client.xadd(EVENTS_KEY, '*', 'type', 'bulk', 'taskId', 'x', 'data', payload);
      }
      cutOff = (await connections(edge.app)) === 1;
    }
    return { edge, paused, reader, sentBytes: count * payload.length, count };
  }

  for (const [name, limits] of [
    [
      'a paused SSE reader is disconnected once its backlog stays above the stall limit',
      { sseStallBytes: 16 * 1024, sseStallMs: 300, sseMaxUnsentBytes: 1024 ** 3 },
    ],
    [
      'an SSE reader whose backlog passes the drop limit is disconnected at once',
      { sseMaxUnsentBytes: 512 * 1024, sseStallMs: 3_600_000 },
    ],
  ] as const) {
    test(name, async () => {
      const { edge, paused, reader, sentBytes, count } = await pausedReader(limits);
      try {
        // The server let go of the connection although the client never read.
        assert.equal(await connections(edge.app), 1, `after ${sentBytes} bytes`);
        // Reading again, the client gets what the kernel held, then the end: not everything.
        const received = readUntilClosed(paused, 10_000);
        paused.resume();
        assert.ok((await received).length < sentBytes, 'the paused client was cut off');
        // The reading client got every event and is still served.
        await reader.waitFor((events) => events.filter((e) => e.event === 'bulk').length === count);
        await stack.client.xadd(EVENTS_KEY, '*', 'type', 'after', 'taskId', 'x', 'data', '{}');
        await reader.waitFor((events) => events.some((e) => e.event === 'after'));
      } finally {
        reader.close();
        paused.destroy();
      }
    });
  }

  describe('Last-Event-ID past the end of the stream resumes live', () => {
    const createTask = async (ms = 1) => {
      const res = asJson(
        await rawRequest(port, {
          method: 'POST',
          path: '/api/tasks',
          headers: JSON_HEADERS,
          body: JSON.stringify({ workflow: 'sleep', params: { ms } }),
        }),
      );
      assert.equal(res.status, 201, JSON.stringify(res.json));
      return (res.json as { id: string }).id;
    };
    const createdEventOf = (id: string) => (events: { event: string; data: string }[]) =>
      events.some((e) => e.event === 'created' && JSON.parse(e.data).taskId === id);

    test('an id past the newest event, then a new task: its events arrive', async () => {
      const newest = (await stack.engine.events.newestId()) ?? '0-0';
      const justPast = `${BigInt(newest.split('-')[0] ?? 0) + 1000n}-0`;
      for (const [url, lastEventId] of [
        ['/api/events', '18446744073709551615-18446744073709551615'],
        ['/api/events', justPast],
      ] as const) {
        const sse = await connectSse(`http://127.0.0.1:${port}${url}`, {
          ...AUTH,
          'last-event-id': lastEventId,
        });
        try {
          const id = await createTask();
          await sse.waitFor(createdEventOf(id), 5000);
        } finally {
          sse.close();
        }
      }
    });

    test('the per-task stream resumes live too; a known id still replays', async () => {
      const first = await createTask(1000);
      const sse = await connectSse(`http://127.0.0.1:${port}/api/tasks/${first}/events`, {
        ...AUTH,
        'last-event-id': '18446744073709551615-0',
      });
      try {
        // It sleeps a second: its completion comes after the connect, live.
        await sse.waitFor((events) => events.some((e) => e.event === 'completed'), 5000);
      } finally {
        sse.close();
      }

      const seen = await connectSse(`http://127.0.0.1:${port}/api/events`, AUTH);
      const second = await createTask();
      const [mark] = (await seen.waitFor(createdEventOf(second))).filter(
        (e) => e.event === 'created' && JSON.parse(e.data).taskId === second,
      );
      seen.close();
      const third = await createTask();
      const replay = await connectSse(`http://127.0.0.1:${port}/api/events`, {
        ...AUTH,
        'last-event-id': mark?.id ?? '',
      });
      try {
        const events = await replay.waitFor(createdEventOf(third), 5000);
        assert.ok(!createdEventOf(second)(events), 'nothing at or before the id is sent again');
      } finally {
        replay.close();
      }
    });

    test('an id no stream could hold is a 400 in our shape', async () => {
      for (const lastEventId of ['18446744073709551616-0', '99999999999999999999-0', 'abc']) {
        const res = asJson(
          await rawRequest(port, {
            method: 'GET',
            path: '/api/events',
            headers: { ...AUTH, 'last-event-id': lastEventId },
          }),
        );
        assertError(res, 400, 'INVALID_EVENT_ID');
      }
    });

    test('the log stream: a seq past the newest line resumes with the lines from now', async () => {
      const source = supervisorLogs([1, 2, 3]);
      const edge = await appWith({}, source);
      const sse = await connectSse(`http://127.0.0.1:${edge.port}/api/logs/stream`, {
        ...AUTH,
        'last-event-id': '5000',
      });
      try {
        source.add(4);
        const events = await sse.waitFor((all) => all.some((e) => e.id === '4'), 5000);
        assert.deepEqual(
          events.map((e) => e.id),
          ['4'],
        );
      } finally {
        sse.close();
      }
    });
  });
});

/** The supervisor's side of /api/logs: a buffer of lines numbered by `seq`, followed live. */
function supervisorLogs(seqs: number[]): SupervisionSource & { add(seq: number): void } {
  const line = (seq: number): ServiceLogLine => ({
    seq,
    ts: new Date().toISOString(),
    service: 'backend',
    stream: 'stdout',
    level: 'info',
    text: `line ${seq}`,
  });
  const lines = seqs.map(line);
  const followers = new Set<(lines: readonly ServiceLogLine[]) => void>();
  return {
    services: () => [],
    async logs(query: ServiceLogQuery) {
      return lines.filter((l) => serviceLogMatches(l, query)).slice(-(query.limit ?? 200));
    },
    follow(listener) {
      followers.add(listener);
      return () => followers.delete(listener);
    },
    close: () => followers.clear(),
    add(seq) {
      const added = line(seq);
      lines.push(added);
      for (const listener of followers) listener([added]);
    },
  };
}
