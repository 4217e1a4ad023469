import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BulkCreateTasks,
  type FieldError,
  ListTasksQuery,
  SCHEDULE_NAME_MAX_LENGTH,
  ScheduleNameParams,
  ServiceLogQuery,
  TASK_ID_MAX_LENGTH,
  TASK_LIMITS,
  type Task,
  TaskIdParams,
  type TaskList,
  UpsertSchedule,
  WORKFLOW_NAME_MAX_LENGTH,
} from '@taskdock/shared/contract';
import type { InjectOptions } from 'fastify';
import { SCHEDULES_KEY, TASK_INDEX_KEY } from '../../src/tasks/keys.ts';
import { createQueue } from '../../src/tasks/queues.ts';
import { builtInWorkflows, createWorkflowRegistry } from '../../src/workflows/registry.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';

const DAY_MS = 86_400_000;
const sleep = { workflow: 'sleep', params: { ms: 0 } };
const shell = (params: object) => ({ workflow: 'shell', params: { command: 'true', ...params } });
const http = (params: object) => ({
  workflow: 'http',
  params: { url: 'http://127.0.0.1:1/', ...params },
});
const many = (count: number, make: (i: number) => [string, unknown]) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => make(i)));

interface Case {
  readonly name: string;
  readonly request: InjectOptions;
  /** JSON pointer of the field the answer must name. */
  readonly path: string;
  /** Words the message must hold (plain words, not a regular expression). */
  readonly says?: RegExp;
}

const createTask = (name: string, payload: object, path: string, says?: RegExp): Case => ({
  name,
  request: { method: 'POST', url: '/api/tasks', payload },
  path,
  ...(says ? { says } : {}),
});
const putSchedule = (name: string, payload: object, path: string, says?: RegExp): Case => ({
  name,
  request: { method: 'PUT', url: '/api/schedules/nightly', payload },
  path,
  ...(says ? { says } : {}),
});

const CASES: Case[] = [
  // Limits BullMQ enforces too: ours must not let through what it refuses (was a 500).
  createTask('priority above BullMQ', { ...sleep, priority: 2_097_152 }, '/body/priority'),
  // No coercion of bodies.
  createTask('priority as a string', { ...sleep, priority: '5' }, '/body/priority'),
  createTask('priority as an array', { ...sleep, priority: [5] }, '/body/priority'),
  createTask('priority as a boolean', { ...sleep, priority: true }, '/body/priority'),
  createTask('owner as a number', { ...sleep, owner: 123 }, '/body/owner'),
  createTask('maxAttempts as a string', { ...sleep, maxAttempts: '3' }, '/body/maxAttempts'),
  createTask('params as a string', { workflow: 'sleep', params: { ms: '5' } }, '/body/params/ms'),
  // The delay limit holds for runAt too.
  createTask(
    'runAt past the delay limit',
    { ...sleep, runAt: new Date(Date.now() + TASK_LIMITS.maxDelayMs + DAY_MS).toISOString() },
    '/body/runAt',
    /days ahead/,
  ),
  // Names of Taskdock's own keys are never workflows.
  createTask(
    'a reserved workflow name',
    { workflow: 'stats', params: {} },
    '/body/workflow',
    /reserved/,
  ),
  // Lone surrogates would collide once stored as UTF-8.
  createTask(
    'idempotency key with a lone surrogate',
    { ...sleep, idempotencyKey: 'k\ud800' },
    '/body/idempotencyKey',
    /Unicode/,
  ),
  createTask(
    'owner with a lone surrogate',
    { ...sleep, owner: '\udc00' },
    '/body/owner',
    /Unicode/,
  ),
  createTask(
    'source with a lone surrogate',
    { ...sleep, source: 'a\ud83d' },
    '/body/source',
    /Unicode/,
  ),
  // shell: what the OS would refuse or misread when the task starts.
  createTask(
    '"=" in an env name',
    shell({ env: { 'A=B': '1' } }),
    '/body/params/env/A=B',
    /variable name/,
  ),
  createTask(
    'NUL in an env name',
    shell({ env: { 'A\0B': '1' } }),
    '/body/params/env/A\0B',
    /variable name/,
  ),
  createTask('NUL in an env value', shell({ env: { X: 'a\0b' } }), '/body/params/env/X', /NUL/),
  createTask('NUL in an argument', shell({ args: ['ok', 'a\0b'] }), '/body/params/args/1', /NUL/),
  createTask(
    'NUL in the command',
    { workflow: 'shell', params: { command: 'ls\0rm' } },
    '/body/params/command',
    /NUL/,
  ),
  createTask('a relative cwd', shell({ cwd: 'tmp/work' }), '/body/params/cwd', /absolute/),
  // http: headers fetch would refuse when the task runs.
  createTask(
    'a header name with a space',
    http({ headers: { 'bad name': 'v' } }),
    '/body/params/headers/bad name',
    /header name/,
  ),
  createTask(
    'a header name with a colon',
    http({ headers: { 'x:y': 'v' } }),
    '/body/params/headers/x:y',
    /header name/,
  ),
  createTask(
    'CR LF in a header value',
    http({ headers: { 'x-a': 'a\r\nInjected: 1' } }),
    '/body/params/headers/x-a',
    /header value/,
  ),
  createTask(
    'NUL in a header value',
    http({ headers: { 'x-a': 'a\0b' } }),
    '/body/params/headers/x-a',
    /header value/,
  ),
  createTask(
    'a URL that does not parse',
    http({ url: 'http://[::1' }),
    '/body/params/url',
    /valid URL/,
  ),
  // Every string, array and record is bounded.
  createTask(
    'too many params',
    { workflow: 'sleep', params: many(101, (i) => [`p${i}`, i]) },
    '/body/params',
  ),
  createTask(
    'too many headers',
    http({ headers: many(101, (i) => [`x-${i}`, 'v']) }),
    '/body/params/headers',
  ),
  createTask(
    'too many env variables',
    shell({ env: many(1001, (i) => [`V${i}`, 'v']) }),
    '/body/params/env',
  ),
  createTask(
    'too many arguments',
    shell({ args: Array.from({ length: 1001 }, () => 'a') }),
    '/body/params/args',
  ),
  createTask('too long an argument', shell({ args: ['a'.repeat(32_769)] }), '/body/params/args/0'),
  createTask(
    'too many expected statuses',
    http({ expectStatus: Array.from({ length: 101 }, () => 200) }),
    '/body/params/expectStatus',
  ),
  createTask('too long an owner', { ...sleep, owner: 'o'.repeat(201) }, '/body/owner'),
  {
    name: 'one bad item of a batch',
    request: {
      method: 'POST',
      url: '/api/tasks/bulk',
      payload: {
        tasks: [sleep, { ...sleep, runAt: new Date(Date.now() + 400 * DAY_MS).toISOString() }],
      },
    },
    path: '/body/tasks/1/runAt',
  },
  // Schedules: cron and time zone errors against their own field, in plain words.
  putSchedule(
    'a blank pattern',
    { workflow: 'sleep', pattern: '   ', params: { ms: 0 } },
    '/body/pattern',
    /blank/,
  ),
  putSchedule(
    'a bad pattern',
    { workflow: 'sleep', pattern: '61 * * * *', params: { ms: 0 } },
    '/body/pattern',
    /not a valid cron pattern/,
  ),
  putSchedule(
    'an unknown time zone',
    { workflow: 'sleep', pattern: '0 * * * *', tz: 'Nowhere/City', params: { ms: 0 } },
    '/body/tz',
    /not a known time zone/,
  ),
  putSchedule(
    'a reserved workflow',
    { workflow: 'index', pattern: '0 * * * *' },
    '/body/workflow',
    /reserved/,
  ),
  putSchedule(
    'bad params',
    { workflow: 'sleep', pattern: '0 * * * *', params: { ms: 'x' } },
    '/body/params/ms',
  ),
  {
    name: 'too long a schedule name',
    request: {
      method: 'PUT',
      url: `/api/schedules/${'s'.repeat(SCHEDULE_NAME_MAX_LENGTH + 1)}`,
      payload: { workflow: 'sleep', pattern: '0 * * * *', params: { ms: 0 } },
    },
    path: '/params/name',
  },
  // Query strings: numbers are read, nothing else is coerced or unbounded.
  {
    name: 'a limit that is no number',
    request: { method: 'GET', url: '/api/tasks?limit=abc' },
    path: '/querystring/limit',
  },
  {
    name: 'a limit given twice',
    request: { method: 'GET', url: '/api/tasks?limit=1&limit=2' },
    path: '/querystring/limit',
  },
  {
    name: 'too long an owner filter',
    request: { method: 'GET', url: `/api/tasks?owner=${'o'.repeat(201)}` },
    path: '/querystring/owner',
  },
  {
    name: 'a reserved workflow filter',
    request: { method: 'GET', url: '/api/tasks?workflow=stats' },
    path: '/querystring/workflow',
  },
  {
    name: 'too long a cursor',
    request: { method: 'GET', url: `/api/tasks?cursor=${'c'.repeat(1025)}` },
    path: '/querystring/cursor',
  },
];

describe('malformed input is refused with a 4xx naming the field, and nothing is queued', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  /** Every job of every queue, the task index and the schedules. */
  async function queuedState() {
    const queues = ['sleep', 'shell', 'http'].map((q) => createQueue(q, stack.client));
    const counts = await Promise.all(queues.map((q) => q.getJobCounts()));
    await Promise.all(queues.map((q) => q.close()));
    return {
      counts,
      indexed: await stack.client.zcard(TASK_INDEX_KEY),
      schedules: await stack.client.hgetall(SCHEDULES_KEY),
    };
  }

  test('each malformed input: 4xx in our shape, the field named, in plain words', async () => {
    const before = await queuedState();
    for (const { name, request, path, says } of CASES) {
      const res = await stack.request(request);
      assert.ok(
        res.statusCode >= 400 && res.statusCode < 500,
        `${name}: ${res.statusCode} ${res.body}`,
      );
      const { error } = res.json<{
        error: { code: string; message: string; details: FieldError[] };
      }>();
      assert.equal(typeof error.code, 'string', name);
      assert.ok(Array.isArray(error.details), `${name}: ${res.body}`);
      const field = error.details.find((d) => d.path === path);
      assert.ok(field, `${name}: no detail for ${path} in ${JSON.stringify(error.details)}`);
      assert.doesNotMatch(field.message, /must match pattern|CronDate/, name);
      if (says) assert.match(field.message, says, name);
    }
    assert.deepEqual(await queuedState(), before);
  });

  test('the valid neighbours of those inputs are accepted', async () => {
    const create = (payload: object) =>
      stack.request({ method: 'POST', url: '/api/tasks', payload });
    for (const payload of [
      { ...sleep, priority: TASK_LIMITS.maxPriority },
      { ...sleep, runAt: new Date(Date.now() + TASK_LIMITS.maxDelayMs - DAY_MS).toISOString() },
      { ...sleep, owner: 'ann 😀', idempotencyKey: 'key 😀' },
      shell({ env: { A_B: 'x=y' }, args: ['a b', ''], cwd: '/' }),
      http({ headers: { 'x-a': 'tab\tand latin-1 é', 'X-Token_1': ' v ' } }),
    ]) {
      const res = await create(payload);
      assert.equal(res.statusCode, 201, `${JSON.stringify(payload)}: ${res.body}`);
    }
    // A time in the past means now: queued, not scheduled.
    const past = await create({ ...sleep, runAt: '2001-01-01T00:00:00Z' });
    assert.equal(past.statusCode, 201);
    assert.equal(past.json<Task>().status, 'queued');
    // Query numbers still work.
    const list = await stack.request({ method: 'GET', url: '/api/tasks?limit=50' });
    assert.equal(list.statusCode, 200);
    assert.ok(list.json<TaskList>().items.length <= 50);
    const zoned = await stack.request({
      method: 'PUT',
      url: '/api/schedules/paris',
      payload: { workflow: 'sleep', pattern: '0 0 1 1 *', tz: 'Europe/Paris', params: { ms: 0 } },
    });
    assert.equal(zoned.statusCode, 200, zoned.body);
  });

  test('a missing cwd fails the task with CWD_NOT_FOUND, not "command not found"', async () => {
    const res = await stack.request({
      method: 'POST',
      url: '/api/tasks',
      payload: shell({ cwd: '/nonexistent/taskdock-cwd' }),
    });
    assert.equal(res.statusCode, 201);
    const task = await stack.waitForTask(res.json<Task>().id);
    assert.equal(task.status, 'failed');
    assert.equal(task.error?.code, 'CWD_NOT_FOUND');
    assert.match(
      task.error?.message ?? '',
      /working directory \/nonexistent\/taskdock-cwd does not exist/i,
    );
  });

  test('the tasks of a schedule with the longest name are readable by their id', async () => {
    const name = 'n'.repeat(SCHEDULE_NAME_MAX_LENGTH);
    const res = await stack.request({
      method: 'PUT',
      url: `/api/schedules/${name}`,
      payload: { workflow: 'sleep', pattern: '0 0 1 1 *', params: { ms: 0 } },
    });
    assert.equal(res.statusCode, 200, res.body);
    let id: string | undefined;
    const deadline = Date.now() + 10_000;
    while (id === undefined) {
      const list = await stack.request({ method: 'GET', url: `/api/tasks?q=schedule:${name}` });
      id = list.json<TaskList>().items[0]?.id;
      if (id === undefined) {
        assert.ok(Date.now() < deadline, 'the schedule made no task');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.match(id, /^sleep:repeat:n+:\d+$/);
    assert.ok(id.length > 100 && id.length <= TASK_ID_MAX_LENGTH, `${id.length} characters`);
    // With the longest workflow name too, the id stays under the maximum.
    assert.ok(id.length - 'sleep'.length + WORKFLOW_NAME_MAX_LENGTH <= TASK_ID_MAX_LENGTH);
    const task = await stack.request({ method: 'GET', url: `/api/tasks/${id}` });
    assert.equal(task.statusCode, 200, task.body);
    assert.equal(task.json<Task>().status, 'scheduled');
    const logs = await stack.request({ method: 'GET', url: `/api/tasks/${id}/logs` });
    assert.equal(logs.statusCode, 200, logs.body);
  });
});

/** Paths of strings, arrays and records in a JSON schema that have no upper bound. */
function unbounded(schema: Record<string, unknown>, at = ''): string[] {
  const found: string[] = [];
  if (schema.type === 'string' && schema.maxLength === undefined && schema.const === undefined) {
    found.push(at || '/');
  }
  if (schema.type === 'array' && schema.maxItems === undefined) found.push(at || '/');
  if (schema.patternProperties !== undefined && schema.maxProperties === undefined) {
    found.push(at || '/');
  }
  const child = (path: string, value: unknown): [string, unknown] => [path, value];
  const children = [
    ...Object.entries((schema.properties ?? {}) as object).map(([k, v]) => child(`${at}/${k}`, v)),
    ...Object.values((schema.patternProperties ?? {}) as object).map((v) => child(`${at}/*`, v)),
    ...((schema.anyOf ?? []) as unknown[]).map((v) => child(at, v)),
    ...(schema.items === undefined ? [] : [child(`${at}/0`, schema.items)]),
  ];
  for (const [path, value] of children) {
    found.push(...unbounded(value as Record<string, unknown>, path));
  }
  return found;
}

test('every string, array and record a request can carry has an upper bound', () => {
  const registry = createWorkflowRegistry(builtInWorkflows({ baseEnv: {} }));
  const schemas: Record<string, unknown> = {
    BulkCreateTasks,
    UpsertSchedule,
    ListTasksQuery,
    TaskIdParams,
    ScheduleNameParams,
    ServiceLogQuery,
    ...Object.fromEntries(registry.list().map((w) => [`params of ${w.name}`, w.paramsSchema])),
  };
  for (const [name, schema] of Object.entries(schemas)) {
    assert.deepEqual(unbounded(schema as Record<string, unknown>), [], name);
  }
});
