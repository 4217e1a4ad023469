import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import type { TaskEngine } from '../../src/engine/task-engine.ts';
import { createTaskWorker } from '../../src/worker/task-worker.ts';
import { builtInWorkflows, createWorkflowRegistry } from '../../src/workflows/registry.ts';
import { waitUntil } from '../helpers/processes.ts';
import { startRedisServer, type TestRedis } from '../helpers/redis-server.ts';
import { createTestEngine, workerConfig } from '../helpers/stack.ts';

const registry = createWorkflowRegistry(builtInWorkflows({ baseEnv: {} }));

describe('gaps in live state are found and repaired from BullMQ', () => {
  let redis: TestRedis;
  const logLines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logLines.push(line) });
  const engines: TaskEngine[] = [];
  const startEngine = async () => {
    const engine = await createTestEngine({
      redis: redis.client(),
      registry,
      retentionDays: 7,
      logger,
    });
    engines.push(engine);
    return engine;
  };
  const startWorker = async () => {
    const worker = createTaskWorker({
      redis: redis.client(),
      registry,
      config: workerConfig({ workflows: ['sleep'] }),
      logger: pino({ level: 'silent' }),
    });
    await worker.start();
    return worker;
  };
  const repairs = () =>
    logLines
      .map((l) => JSON.parse(l) as { msg: string; reason?: string; corrected?: number })
      .filter((l) => l.msg.startsWith('reconciled the indexes'));
  const ids = async (engine: TaskEngine, query: Parameters<TaskEngine['list']>[0]) =>
    (await engine.list({ ...query, limit: 500 })).items.map((t) => t.id).sort();

  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    await Promise.all(engines.map((e) => e.close()));
    await redis.stop();
  });

  test('a stream trimmed before the relay read it: the statuses it carried are rebuilt, and the log says so', async () => {
    const first = await startEngine();
    const created = (
      await first.createMany(
        Array.from({ length: 30 }, () => ({ workflow: 'sleep', params: { ms: 0 } })),
      )
    ).map((o) => o.task.id);
    assert.ok(
      await waitUntil(async () => (await ids(first, { status: 'queued' })).length === 30, 10_000),
    );
    await first.close();

    // No relay runs while the tasks run; then a plain BullMQ client trims the stream.
    const worker = await startWorker();
    const client = redis.client();
    assert.ok(
      await waitUntil(async () => (await client.zcard('taskdock:sleep:completed')) === 30, 10_000),
    );
    await worker.stop();
    const producer = new Queue('sleep', { connection: redis.client(), prefix: 'taskdock' });
    await producer.add('sleep', { ms: 0 }, { jobId: 'plain-while-trimmed' });
    await client.xtrim('taskdock:sleep:events', 'MAXLEN', 0);
    await producer.close();

    const second = await startEngine();
    assert.ok(
      await waitUntil(
        async () => (await ids(second, { status: 'completed' })).length === 30,
        15_000,
      ),
      'the completed tasks are listed as completed again',
    );
    assert.deepEqual(await ids(second, { status: 'completed' }), [...created].sort());
    assert.deepEqual(await ids(second, { status: 'queued' }), ['sleep:plain-while-trimmed']);
    const [repair] = repairs();
    assert.match(repair?.reason ?? '', /trimmed/);
    assert.equal(repair?.corrected, 30);
    assert.ok(logLines.some((l) => l.includes('totals since install miss')));
    const stats = await second.stats();
    assert.equal(stats.byStatus.completed, 30);
    assert.equal(stats.byStatus.queued, 1);
  });

  test('indexes deleted on a live stack come back within seconds', async () => {
    const engine = engines.at(-1) as TaskEngine;
    const worker = await startWorker();
    const before = logLines.length;
    // With the 30 tasks and the plain producer's job of the test before: 51 in all.
    const made = (
      await engine.createMany(
        Array.from({ length: 20 }, () => ({ workflow: 'sleep', params: { ms: 0 } })),
      )
    ).map((o) => o.task.id);
    assert.ok(
      await waitUntil(
        async () => (await ids(engine, { status: 'completed' })).length === 51,
        10_000,
      ),
    );
    const client = redis.client();
    await client.del(
      'taskdock:index:status:completed',
      'taskdock:index:workflow:sleep',
      'taskdock:index:ids',
    );
    assert.deepEqual(await ids(engine, { status: 'completed' }), [], 'lost, for a moment');
    assert.ok(
      await waitUntil(
        async () => (await ids(engine, { status: 'completed' })).length === 51,
        20_000,
      ),
      'rebuilt',
    );
    // The 30 and the plain producer's job of the first test, and these 20.
    assert.equal((await ids(engine, { workflow: 'sleep' })).length, 51);
    const jobId = (made[0] as string).slice('sleep:'.length);
    assert.deepEqual(
      (await engine.list({ q: jobId.slice(0, 10) })).items.map((t) => t.id),
      [made[0]],
      'search by id works again',
    );
    assert.ok(
      logLines.slice(before).some((l) => l.includes('reconciled the indexes of sleep')),
      'the log says what was repaired',
    );
    await worker.stop();
  });
});
