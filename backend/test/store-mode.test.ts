import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Readiness } from '@taskdock/shared/contract';
import { ConfigError } from '@taskdock/shared/node/settings';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createMemoryEngine } from '../src/engine/memory/memory-engine.ts';
import type { TaskEngine } from '../src/engine/task-engine.ts';
import { createMetrics } from '../src/metrics.ts';
import { createSessionManager } from '../src/plugins/session.ts';
import { createFileSessionStore } from '../src/plugins/session-store.ts';
import { builtInWorkflows, createWorkflowRegistry } from '../src/workflows/registry.ts';
import { TEST_TOKEN } from './helpers/stack.ts';

const DATA = { TASKDOCK_DATA_DIR: '/var/lib/taskdock' };

describe('TASKDOCK_STORE in the backend config', () => {
  test('auto: Redis with a URL, memory without one, and each says why', () => {
    const redis = loadConfig({ ...DATA, TASKDOCK_REDIS_URL: 'redis://127.0.0.1:6390' });
    assert.deepEqual(redis.store, { mode: 'redis', reason: 'TASKDOCK_REDIS_URL is set' });
    const memory = loadConfig(DATA);
    assert.deepEqual(memory.store, { mode: 'memory', reason: 'TASKDOCK_REDIS_URL is not set' });
    assert.equal(memory.redis, undefined);
    assert.equal(memory.memoryMaxTasks, 100_000);
  });

  test('the supervisor passes its reason on', () => {
    const config = loadConfig({
      ...DATA,
      TASKDOCK_STORE: 'memory',
      TASKDOCK_STORE_REASON: 'no redis-server was found (bundled or on PATH)',
    });
    assert.deepEqual(config.store, {
      mode: 'memory',
      reason: 'no redis-server was found (bundled or on PATH)',
    });
  });

  test('bad store settings are reported together with the others', () => {
    try {
      loadConfig({
        ...DATA,
        TASKDOCK_STORE: 'disk',
        TASKDOCK_MEMORY_MAX_TASKS: '5',
        TASKDOCK_PORT: 'x',
      });
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 3);
      assert.match(err.problems.join('\n'), /TASKDOCK_STORE must be one of redis, memory, auto/);
      assert.match(err.problems.join('\n'), /TASKDOCK_MEMORY_MAX_TASKS must be an integer/);
    }
    assert.throws(
      () => loadConfig({ ...DATA, TASKDOCK_STORE: 'memory', TASKDOCK_REDIS_URL: 'redis://h:1' }),
      /TASKDOCK_STORE=memory and TASKDOCK_REDIS_URL contradict each other/,
    );
  });
});

describe('the file session store (memory mode)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-sessions-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a nonce is used once, also after a restart; sessions survive it and expire', async () => {
    const file = path.join(dir, 'sessions.json');
    const store = await createFileSessionStore(file);
    const results = await Promise.all([store.useNonce('n1'), store.useNonce('n1')]);
    assert.deepEqual(results.sort(), [false, true], 'two racing tabs get one session');
    await store.addSession('live', 60_000);
    await store.addSession('short', 1);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.doesNotMatch(await readFile(file, 'utf8'), /session-id/);

    const reopened = await createFileSessionStore(file);
    assert.equal(await reopened.useNonce('n1'), false, 'a used link stays used');
    assert.equal(await reopened.hasSession('live'), true, 'a tab stays signed in');
    assert.equal(await reopened.hasSession('short'), false, 'expired');
    await reopened.removeSession('live');
    assert.equal(await (await createFileSessionStore(file)).hasSession('live'), false);
  });

  test('bounded: the oldest entries go first', async () => {
    const store = await createFileSessionStore(path.join(dir, 'bounded.json'), {
      nonces: 2,
      sessions: 2,
    });
    for (const n of ['a', 'b', 'c']) await store.useNonce(n);
    for (const s of ['x', 'y', 'z']) await store.addSession(s, 60_000);
    assert.equal(await store.hasSession('x'), false);
    assert.equal(await store.hasSession('z'), true);
    assert.equal(await store.useNonce('c'), false);
  });
});

describe('the API in memory mode: no Redis client at all', () => {
  let dir: string;
  let engine: TaskEngine;
  let app: FastifyInstance;
  const store = { mode: 'memory', reason: 'TASKDOCK_STORE=memory' } as const;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-memory-app-'));
    const logger = pino({ level: 'silent' });
    const metrics = createMetrics(
      { stats: () => engine.stats(), ping: () => engine.ping() },
      store,
    );
    engine = await createMemoryEngine({
      registry: createWorkflowRegistry(builtInWorkflows({ baseEnv: {} })),
      retentionDays: 7,
      logger,
      concurrency: 2,
    });
    const sessionStore = await createFileSessionStore(path.join(dir, 'sessions.json'));
    app = await buildApp({
      token: TEST_TOKEN,
      engine,
      store,
      metrics,
      sessions: createSessionManager({ store: sessionStore, token: TEST_TOKEN }),
    });
  });
  after(async () => {
    await app.close();
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  const auth = { authorization: `Bearer ${TEST_TOKEN}`, host: '127.0.0.1:4321' };

  test('readiness says memory, with the reason, and no redis', async () => {
    const res = await app.inject({ url: '/api/health/ready', headers: auth });
    assert.equal(res.statusCode, 200);
    const body = res.json<Readiness>();
    assert.deepEqual(body.store, store);
    assert.equal(body.redis, undefined);
    assert.equal(body.ready, true);
  });

  test('/metrics has taskdock_store{mode="memory"} 1 and no Redis gauges', async () => {
    const res = await app.inject({ url: '/metrics', headers: auth });
    assert.match(res.body, /^taskdock_store\{mode="memory"\} 1$/m);
    assert.match(res.body, /^taskdock_store\{mode="redis"\} 0$/m);
    assert.doesNotMatch(res.body, /taskdock_redis_up/);
  });

  test('a sign-in link works once and sets a session cookie', async () => {
    const nonce = randomBytes(16).toString('base64url');
    const signature = createHmac('sha256', TEST_TOKEN)
      .update(`taskdock-login:${nonce}`)
      .digest('base64url');
    const url = `/?login=${nonce}.${signature}`;
    const first = await app.inject({ url, headers: { host: '127.0.0.1:4321' } });
    assert.equal(first.statusCode, 303);
    const cookie = [first.headers['set-cookie']].flat().find((c) => c?.startsWith('taskdock_'));
    assert.ok(cookie);
    const session = await app.inject({
      url: '/api/session',
      headers: { host: '127.0.0.1:4321', cookie: cookie.split(';')[0] as string },
    });
    assert.equal(session.statusCode, 200);
    const again = await app.inject({ url, headers: { host: '127.0.0.1:4321' } });
    assert.match(String(again.headers.location), /signin=invalid|invalid/);
  });
});
