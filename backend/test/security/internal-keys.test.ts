import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BULLMQ_QUEUE_KEYS,
  isTaskId,
  type Stats,
  TASKDOCK_KEY_NAMESPACES,
  type Task,
  type TaskList,
} from '@taskdock/shared/contract';
import type { LightMyRequestResponse } from 'fastify';
import { createSessionManager } from '../../src/plugins/session.ts';
import { createRedisSessionStore } from '../../src/plugins/session-store.ts';
import {
  EVENTS_KEY,
  PREFIX,
  QUEUES_KEY,
  RELAY_POSITIONS_KEY,
  SCHEDULES_KEY,
  STATS_TOTALS_KEY,
  statsWorkflowKey,
  TASK_INDEX_KEY,
} from '../../src/tasks/keys.ts';
import { createWorkflowRegistry } from '../../src/workflows/registry.ts';
import { sleepWorkflow } from '../../src/workflows/sleep.ts';
import { startStack, TEST_TOKEN, type TestStack } from '../helpers/stack.ts';

const WORKFLOWS = ['sleep', 'shell', 'http'];

/** Every key Taskdock and BullMQ keep in Redis right now. */
async function allKeys(stack: TestStack): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await stack.client.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

/** What a probe must not change: counters, relay positions, the event stream, indexes, jobs. */
async function snapshot(stack: TestStack, jobKeys: readonly string[]) {
  const redis = stack.client;
  const lastEvent = await redis.xrevrange(EVENTS_KEY, '+', '-', 'COUNT', 1);
  const stats = (await stack.request({ method: 'GET', url: '/api/stats' })).json<Stats>();
  return {
    apiTotals: stats.totals,
    totals: await redis.hgetall(STATS_TOTALS_KEY),
    perWorkflow: await Promise.all(WORKFLOWS.map((w) => redis.hgetall(statsWorkflowKey(w)))),
    relayPositions: await redis.hgetall(RELAY_POSITIONS_KEY),
    eventsLength: await redis.xlen(EVENTS_KEY),
    lastEventId: lastEvent[0]?.[0],
    queues: (await redis.smembers(QUEUES_KEY)).sort(),
    schedules: await redis.hgetall(SCHEDULES_KEY),
    indexedTasks: await redis.zcard(TASK_INDEX_KEY),
    jobsPresent: await Promise.all(jobKeys.map((key) => redis.exists(key))),
  };
}

const PROBES = [
  (id: string) => ({ method: 'GET' as const, url: `/api/tasks/${id}` }),
  (id: string) => ({ method: 'DELETE' as const, url: `/api/tasks/${id}` }),
  (id: string) => ({ method: 'POST' as const, url: `/api/tasks/${id}/cancel` }),
  (id: string) => ({ method: 'POST' as const, url: `/api/tasks/${id}/retry` }),
  (id: string) => ({ method: 'GET' as const, url: `/api/tasks/${id}/logs` }),
  (id: string) => ({ method: 'GET' as const, url: `/api/tasks/${id}/events` }),
];

describe('task ids never reach keys that are not jobs', () => {
  let stack: TestStack;
  const taskIds: string[] = [];
  before(async () => {
    stack = await startStack();
    const create = async (payload: object) => {
      const res = await stack.request({ method: 'POST', url: '/api/tasks', payload });
      assert.equal(res.statusCode, 201, res.body);
      const task = res.json<Task>();
      taskIds.push(task.id);
      return task;
    };
    // Tasks in every state, with logs, an owner, a source, an idempotency key and a schedule,
    // so every kind of key exists while the probes run.
    const finishing = [
      await create({ workflow: 'sleep', params: { ms: 0 } }),
      await create({ workflow: 'sleep', params: { ms: 0 } }),
      await create({ workflow: 'sleep', params: { ms: 10, failAt: 1 } }),
      await create({
        workflow: 'shell',
        params: { command: 'sh', args: ['-c', 'echo out; echo err >&2'] },
      }),
      await create({
        workflow: 'sleep',
        params: { ms: 0 },
        owner: 'ann',
        source: 'probe',
        idempotencyKey: 'probe-key',
      }),
    ];
    await create({ workflow: 'sleep', params: { ms: 0 }, delayMs: 3_600_000 });
    const cancelled = await create({ workflow: 'sleep', params: { ms: 0 }, delayMs: 3_600_000 });
    const cancel = await stack.request({
      method: 'POST',
      url: `/api/tasks/${cancelled.id}/cancel`,
    });
    assert.equal(cancel.statusCode, 200);
    const schedule = await stack.request({
      method: 'PUT',
      url: '/api/schedules/yearly',
      payload: { workflow: 'sleep', pattern: '0 0 1 1 *', params: { ms: 0 } },
    });
    assert.equal(schedule.statusCode, 200, schedule.body);
    const sessions = createSessionManager({
      store: createRedisSessionStore(stack.client),
      token: TEST_TOKEN,
    });
    await sessions.createSession();
    await sessions.useNonce('probe-nonce');
    for (const task of finishing) await stack.waitForTask(task.id);

    // 7 tasks and the schedule's first job created; 4 completed, 1 failed, 1 cancelled.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { totals } = (await stack.request({ method: 'GET', url: '/api/stats' })).json<Stats>();
      const settled =
        totals.created === 8 &&
        totals.completed === 4 &&
        totals.failed === 1 &&
        totals.cancelled === 1;
      if (settled) break;
      assert.ok(Date.now() < deadline, `the relay did not catch up: ${JSON.stringify(totals)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const scheduled = (
      await stack.request({ method: 'GET', url: '/api/tasks?q=schedule:yearly' })
    ).json<TaskList>();
    assert.equal(scheduled.items.length, 1);
    taskIds.push((scheduled.items[0] as Task).id);
  });
  after(() => stack.close());

  /** Ids that, joined into `taskdock:<queue>:<job id>`, name a key that is not a job hash. */
  async function internalKeyIds(): Promise<string[]> {
    const jobKeys = new Set(taskIds.map((id) => `${PREFIX}:${id}`));
    const fromRedis = (await allKeys(stack))
      .filter((key) => !jobKeys.has(key))
      .map((key) => key.slice(PREFIX.length + 1));
    const [someJob] = taskIds;
    const jobId = (someJob as string).slice((someJob as string).indexOf(':') + 1);
    const fromTables = [
      ...TASKDOCK_KEY_NAMESPACES.flatMap((ns) => [ns, `${ns}:x`, `${ns}:${jobId}`]),
      'stats:totals',
      'stats:workflow:sleep',
      'relay:positions',
      'relay:lock',
      'index:tasks',
      'index:status-of',
      ...WORKFLOWS.flatMap((queue) => [
        `${queue}:`,
        ...BULLMQ_QUEUE_KEYS.map((suffix) => `${queue}:${suffix}`),
        ...['logs', 'lock', 'dependencies', 'processed', 'failed', 'unsuccessful'].map(
          (suffix) => `${queue}:${jobId}:${suffix}`,
        ),
        `${queue}:repeat:yearly`,
        `${queue}:de:x`,
        `${queue}:metrics:completed`,
        `${queue}:metrics:completed:data`,
        `${queue}:repeat:yearly:1:logs`,
      ]),
    ];
    return [...new Set([...fromRedis, ...fromTables])];
  }

  test('the key table and every key in Redis: all fall under a reserved name or a queue', async () => {
    // If a new kind of key appears (a new namespace in keys.ts or session.ts), this fails until
    // the namespace is reserved in the contract.
    const reserved = new Set<string>(TASKDOCK_KEY_NAMESPACES);
    for (const key of await allKeys(stack)) {
      const first = key.split(':')[1] as string;
      assert.ok(reserved.has(first) || WORKFLOWS.includes(first), `${key} is in no known space`);
    }
    assert.throws(
      () => createWorkflowRegistry([{ ...sleepWorkflow, name: 'stats' }]),
      /reserved names/,
    );
    for (const id of taskIds) assert.ok(isTaskId(id), id);
  });

  test('GET, DELETE, cancel, retry, logs and events of every internal key: 400/404, nothing changes', async () => {
    // Another program's keys under the same prefix: ids of a task's shape, but of no queue.
    await stack.client.set(`${PREFIX}:other-app:config`, 'keep');
    await stack.client.hset(`${PREFIX}:other-app:1`, 'name', 'not a job of ours');
    const jobKeys = taskIds.map((id) => `${PREFIX}:${id}`);
    const before = await snapshot(stack, jobKeys);
    const persistent = [];
    for (const key of await allKeys(stack)) {
      if ((await stack.client.pttl(key)) === -1) persistent.push(key);
    }
    const ids = await internalKeyIds();
    assert.ok(ids.length > 150, `${ids.length} ids`);
    const answers = new Map<number, number>();
    for (const id of ids) {
      for (const probe of PROBES) {
        const request = probe(encodeURIComponent(id));
        // An events route that let the id through would stream forever: fail instead of hanging.
        const res = await Promise.race([
          stack.request(request),
          new Promise<LightMyRequestResponse>((_, reject) =>
            setTimeout(() => reject(new Error(`${request.method} ${request.url} hung`)), 5000),
          ),
        ]);
        const where = `${request.method} ${request.url} → ${res.statusCode} ${res.body}`;
        assert.ok(res.statusCode === 400 || res.statusCode === 404, where);
        const body = res.json();
        assert.equal(typeof body.error?.code, 'string', where);
        assert.equal(typeof body.error?.message, 'string', where);
        answers.set(res.statusCode, (answers.get(res.statusCode) ?? 0) + 1);
      }
    }
    // Both answers occur: 400 for a shape no job has, 404 for other-app:… (no such queue).
    assert.ok((answers.get(400) ?? 0) > 0 && (answers.get(404) ?? 0) > 0, [...answers].join());
    // Let the relay pick up anything a probe might have set off before comparing.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await snapshot(stack, jobKeys), before);
    for (const key of persistent) assert.equal(await stack.client.exists(key), 1, `${key} is gone`);
    assert.equal(await stack.client.get(`${PREFIX}:other-app:config`), 'keep');
  });

  test('the tasks themselves stay readable through the same routes', async () => {
    for (const id of taskIds) {
      const res = await stack.request({
        method: 'GET',
        url: `/api/tasks/${encodeURIComponent(id)}`,
      });
      assert.equal(res.statusCode, 200, id);
      const logs = await stack.request({ method: 'GET', url: `/api/tasks/${id}/logs` });
      assert.equal(logs.statusCode, 200, id);
    }
  });
});
