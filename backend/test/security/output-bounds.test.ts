import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { after, before, test } from 'node:test';
import type { Task, TaskList, TaskLogs } from '@taskdock/shared/contract';
import { CUT_MARKER } from '../../src/workflows/output-lines.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

const MB = 1024 * 1024;
const OUTPUT_BYTES = 200 * MB;
const HTTP_BODY_BYTES = 300 * MB;
/** The worker's caps in this test; line bytes stay at their default (8192). */
const CAPS = {
  TASKDOCK_MAX_RESULT_BYTES: String(256 * 1024),
  TASKDOCK_MAX_LOG_LINES: '2000',
  TASKDOCK_MAX_HTTP_BODY_BYTES: String(128 * 1024),
};
const LINE_BYTES = 8192;
const RSS_HEADROOM = 150 * MB;

/** Resident memory of a process, from /proc (Linux, as in CI). */
function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(match?.[1], `VmRSS of ${pid}`);
  return Number(match[1]) * 1024;
}

/** A 127.0.0.1 server whose `/big` streams 300 MB, writing only as fast as the client reads. */
async function startBigBodyServer() {
  const block = Buffer.alloc(64 * 1024, 'b');
  let sent = 0;
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': HTTP_BODY_BYTES });
    let left = HTTP_BODY_BYTES;
    const write = () => {
      while (left > 0 && !res.destroyed) {
        left -= block.length;
        sent += block.length;
        if (!res.write(block)) return void res.once('drain', write);
      }
      res.end();
    };
    res.on('error', () => {});
    write();
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/big`,
    sent: () => sent,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

let stack: TestStack;
let worker: WorkerProcess;
let bigBody: Awaited<ReturnType<typeof startBigBodyServer>>;

before(async () => {
  stack = await startStack({ worker: false });
  bigBody = await startBigBodyServer();
  worker = startWorkerProcess({
    TASKDOCK_REDIS_URL: stack.redis.url,
    TASKDOCK_DATA_DIR: os.tmpdir(),
    ...CAPS,
  });
  await worker.ready;
});

after(async () => {
  await worker?.kill();
  await bigBody?.close();
  await stack?.close();
});

async function create(workflow: string, params: object): Promise<Task> {
  const res = await stack.request({
    method: 'POST',
    url: '/api/tasks',
    payload: { workflow, params },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<Task>();
}

const sh = (script: string) => ({ command: 'sh', args: ['-c', script] });

test('200 MB of output and a 300 MB body leave memory, results, logs and lists bounded', async (t) => {
  // Warm-up (loads the shell and fetch code paths), then the baseline.
  const warmups = [
    await create('shell', sh('echo warm')),
    await create('http', { url: `${bigBody.url}?warm` }),
  ];
  for (const task of warmups) {
    assert.equal((await stack.waitForTask(task.id, undefined, 20_000)).status, 'completed');
  }
  const baseline = rssOf(worker.pid);

  const oneLine = await create(
    'shell',
    sh(`head -c ${OUTPUT_BYTES} /dev/zero | tr '\\0' x; echo; echo done`),
  );
  const manyLines = await create(
    'shell',
    sh(`yes "$(head -c 1023 /dev/zero | tr '\\0' y)" | head -c ${OUTPUT_BYTES}; echo last`),
  );
  const body = await create('http', { url: bigBody.url });
  const ids = [oneLine.id, manyLines.id, body.id];

  let peak = baseline;
  let slowestHealthMs = 0;
  const healthStatuses = new Set<number>();
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssOf(worker.pid));
  }, 50);
  const healthProbe = setInterval(async () => {
    const started = performance.now();
    const res = await stack.request({ method: 'GET', url: '/api/health' });
    healthStatuses.add(res.statusCode);
    slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
  }, 250);
  let done: Task[];
  try {
    done = await Promise.all(ids.map((id) => stack.waitForTask(id, undefined, 45_000)));
  } finally {
    clearInterval(sampler);
    clearInterval(healthProbe);
  }
  for (const task of done) assert.equal(task.status, 'completed', JSON.stringify(task.error));

  t.diagnostic(
    `worker RSS ${(baseline / MB).toFixed(0)} → peak ${(peak / MB).toFixed(0)} MB; slowest health ${slowestHealthMs.toFixed(0)} ms; body server sent ${(bigBody.sent() / MB).toFixed(1)} MB`,
  );
  assert.ok(
    peak < baseline + RSS_HEADROOM,
    `worker RSS peaked at ${(peak / MB).toFixed(0)} MB from a baseline of ${(baseline / MB).toFixed(0)} MB`,
  );
  assert.deepEqual([...healthStatuses], [200]);
  assert.ok(
    slowestHealthMs < 1000,
    `/api/health took ${slowestHealthMs.toFixed(0)} ms while tasks ran`,
  );
  // Reading stopped at the cap: the server got to send little more than what sockets buffer.
  assert.ok(bigBody.sent() < 2 * 32 * MB, `the server sent ${(bigBody.sent() / MB).toFixed(0)} MB`);

  // The detail view has each result, truncated and within the cap.
  const maxResultBytes = Number(CAPS.TASKDOCK_MAX_RESULT_BYTES);
  const [oneLineTask, manyLinesTask, bodyTask] = done as [Task, Task, Task];
  for (const task of done) {
    const res = await stack.request({ method: 'GET', url: `/api/tasks/${task.id}` });
    const result = res.json<Task>().result as { truncated?: boolean };
    assert.equal(result.truncated, true, `${task.id} result is marked truncated`);
    assert.ok(
      Buffer.byteLength(JSON.stringify(result)) <= maxResultBytes,
      `${task.id} result size`,
    );
  }
  const shellResult = (task: Task) => task.result as { exitCode: number; stdoutTail: string };
  assert.equal(shellResult(oneLineTask).exitCode, 0);
  assert.ok(shellResult(oneLineTask).stdoutTail.endsWith(`x\ndone`));
  assert.ok(shellResult(manyLinesTask).stdoutTail.endsWith('\nlast'));
  const httpResult = bodyTask.result as { status: number; body: string; bytesRead: number };
  assert.equal(httpResult.status, 200);
  assert.equal(httpResult.bytesRead, Number(CAPS.TASKDOCK_MAX_HTTP_BODY_BYTES));
  assert.equal(httpResult.body, 'b'.repeat(httpResult.bytesRead));

  // The logs hold the newest lines, at most the line cap of them, none over the byte cap.
  for (const task of [oneLineTask, manyLinesTask]) {
    const res = await stack.request({
      method: 'GET',
      url: `/api/tasks/${task.id}/logs?limit=5000`,
    });
    const { lines } = res.json<TaskLogs>();
    assert.ok(lines.length <= Number(CAPS.TASKDOCK_MAX_LOG_LINES), `${lines.length} lines`);
    assert.ok(lines.length > 1000, 'the newest output is kept');
    for (const line of lines) assert.ok(Buffer.byteLength(line.text) <= LINE_BYTES);
    const stdout = lines.filter((l) => l.stream === 'stdout').map((l) => l.text);
    if (task === oneLineTask) {
      assert.deepEqual(stdout.slice(-1), ['done']);
      // The 200 MB line, in pieces: each full piece marked as going on.
      for (const piece of stdout.slice(0, -2)) {
        assert.ok(piece.endsWith(CUT_MARKER) && piece.startsWith('xxx'));
      }
    } else {
      assert.deepEqual(stdout.slice(-2), ['y'.repeat(1023), 'last']);
    }
  }

  // Lists never carry results: fast and small however big the results are.
  const rssBefore = process.memoryUsage.rss();
  for (let i = 0; i < 10; i++) {
    const started = performance.now();
    const res = await stack.request({ method: 'GET', url: '/api/tasks?limit=50' });
    const ms = performance.now() - started;
    assert.equal(res.statusCode, 200);
    assert.ok(ms < 500, `the list took ${ms.toFixed(0)} ms`);
    assert.ok(res.body.length < 64 * 1024, `the list is ${res.body.length} bytes`);
    const { items } = res.json<TaskList>();
    assert.equal(items.length, 5);
    for (const item of items) assert.ok(!('result' in item), `${item.id} in a list has no result`);
  }
  const listGrowth = process.memoryUsage.rss() - rssBefore;
  assert.ok(listGrowth < 50 * MB, `lists grew the backend by ${(listGrowth / MB).toFixed(0)} MB`);
  const health = performance.now();
  assert.equal((await stack.request({ method: 'GET', url: '/api/health' })).statusCode, 200);
  assert.ok(performance.now() - health < 200);
});
