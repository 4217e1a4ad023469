import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { type RawResponse, rawRequest } from '../helpers/raw-http.ts';
import { startStack, TEST_TOKEN, type TestStack } from '../helpers/stack.ts';

interface Route {
  readonly method: string;
  /** A concrete path: params and wildcards filled in. */
  readonly path: string;
}

/** Routes anyone on the machine may call: liveness and the UI's files. Nothing else. */
const PUBLIC = new Set(['/api/health', '/api/health/', '/*']);
const SAMPLE_PARAMS: Record<string, string> = { ':id': 'shell:1', ':name': 'nightly', '*': 'x' };
const TASK = { workflow: 'sleep', params: { ms: 1 } };
/** Valid bodies: a request past the guard would create something, never stop at validation. */
const BODIES: Record<string, object> = {
  '/api/tasks': TASK,
  '/api/tasks/': TASK,
  '/api/tasks/bulk': { tasks: [TASK] },
  '/api/schedules/nightly': { workflow: 'sleep', pattern: '* * * * *', params: { ms: 1 } },
};
const bodyFor = (target: string) => {
  const plain = target.replace(/[?#;].*$/, '');
  return JSON.stringify(BODIES[plain] ?? BODIES[plain.replace(/\/$/, '')] ?? {});
};

/**
 * Every route as registered, read from `printRoutes` (one node per line, children indented by
 * 4), so a route added later is in the matrix without anyone listing it.
 */
function registeredRoutes(app: FastifyInstance): { pattern: string; methods: string[] }[] {
  const routes: { pattern: string; methods: string[] }[] = [];
  const parents: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const at = line.indexOf('── ');
    if (at < 0) continue;
    const depth = (at - 1) / 4;
    const match = /^(\S+)(?: \(([^)]*)\))?/.exec(line.slice(at + 3));
    if (!match?.[1]) continue;
    const parent = parents[depth - 1] ?? '';
    // A wildcard hangs under the node of its prefix without its slash (`/api` + `*`).
    const segment = match[1] === '*' && !parent.endsWith('/') ? '/*' : match[1];
    const pattern = parent + segment;
    parents[depth] = pattern;
    parents.length = depth + 1;
    if (match[2]) routes.push({ pattern, methods: match[2].split(', ') });
  }
  return routes;
}

const fill = (pattern: string) =>
  pattern.replace(/:[a-z]+|\*/gi, (param) => SAMPLE_PARAMS[param] ?? 'x');
const hex = (char: string, upper = false) => {
  const code = (char.codePointAt(0) ?? 0).toString(16).padStart(2, '0');
  return `%${upper ? code.toUpperCase() : code}`;
};
const encodeAll = (text: string, upper: boolean) => [...text].map((c) => hex(c, upper)).join('');

/** The same path spelled every way a guard on strings could miss and a router could still match. */
function spellings(target: string): string[] {
  const [, first = '', ...restParts] = target.split('/');
  const rest = restParts.join('/');
  const tail = rest ? `/${rest}` : '';
  const head = first.charAt(0);
  // From the public prefix back into the protected path.
  const fromHealth = first === 'api' ? rest : `../${first}${tail ? `/${rest}` : ''}`;
  const variants = [
    target,
    `/${hex(head)}${first.slice(1)}${tail}`,
    `/${hex(head, true)}${first.slice(1)}${tail}`,
    `/${encodeAll(first, false)}${tail}`,
    `/${encodeAll(first, true)}${tail}`,
    `/%25${hex(head).slice(1)}${first.slice(1)}${tail}`,
    `//${first}${tail}`,
    `///${first}${tail}`,
    `/./${first}${tail}`,
    `/x/../${first}${tail}`,
    `/%2e/${first}${tail}`,
    `/%2E/${first}${tail}`,
    `/x/%2e%2e/${first}${tail}`,
    `/x/%2E%2E/${first}${tail}`,
    `/x/..%2F${first}${tail}`,
    `/${first.toUpperCase()}${tail}`,
    `/${head.toUpperCase()}${first.slice(1)}${tail.toUpperCase()}`,
    `/${first}.${tail}`,
    `/${first}..${tail}`,
    `/${first};x${tail}`,
    `/${first};${tail}`,
    `/${first}%00${tail}`,
    `/${first}%20${tail}`,
    `${target}.`,
    `${target}/.`,
    `${target}/..`,
    `${target};x=1`,
    `${target};`,
    `${target}/`,
    `${target}//`,
    `${target}%2F`,
    `${target}%2f`,
    `${target}%252F`,
    `${target}?x=/api/health`,
    `${target}#x`,
    `/api/health/../${fromHealth}`,
    `/api/health/%2e%2e/${fromHealth}`,
    `/api/health/..%2F${fromHealth}`,
    `/api/health%2F..%2F${fromHealth}`,
    `/api/health;/../${fromHealth}`,
  ];
  if (rest) {
    variants.push(
      `/${first}/${hex(rest.charAt(0))}${rest.slice(1)}`,
      `/${first}%2F${rest}`,
      `/${first}%2f${rest}`,
      `/${first}%252F${rest}`,
      `/${first}%252f${rest}`,
      `/${first}//${rest}`,
      `/${first}/./${rest}`,
      `/${first}/x/../${rest}`,
      `/${first}/%2e/${rest}`,
      `/${first}/x/%2e%2e/${rest}`,
      `/${first}/${rest.toUpperCase()}`,
      `/${first}\\${rest}`,
      `/${first}%5C${rest}`,
      `/${first}%5c${rest}`,
    );
  }
  return [...new Set(variants)];
}

const errorOf = (res: RawResponse) => {
  try {
    const { error } = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
    return typeof error?.code === 'string' && typeof error.message === 'string'
      ? { code: error.code, message: error.message }
      : undefined;
  } catch {
    return undefined;
  }
};

/**
 * An answer given before any handler ran: the guard's 401, the router's 404 (`No route …`), or
 * a 400 for a request line that does not parse. A handler's own 404 or a validation 400 would
 * mean the request got past the guard, so they do not count. HEAD answers carry no body.
 */
function stoppedAtTheEdge(method: string, res: RawResponse): boolean {
  if (method === 'HEAD') return [400, 401, 404].includes(res.status);
  const error = errorOf(res);
  if (res.status === 401) return error?.code === 'UNAUTHORIZED';
  if (res.status === 404)
    return error?.code === 'NOT_FOUND' && error.message.startsWith('No route');
  if (res.status === 400) return error?.code === 'BAD_URL' || error?.code === 'BAD_REQUEST';
  return false;
}

/** Runs `work` over `items`, `width` at a time. */
async function inBatches<T, R>(items: T[], width: number, work: (item: T) => Promise<R>) {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += width) {
    results.push(...(await Promise.all(items.slice(i, i + width).map(work))));
  }
  return results;
}

describe('the request guard decides on the route the router matched', () => {
  let stack: TestStack;
  let app: FastifyInstance;
  let uiDir: string;
  let port: number;
  let protectedRoutes: Route[];
  let publicRoutes: Route[];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

  const send = (method: string, target: string, token?: string) =>
    rawRequest(port, {
      method,
      path: target,
      agent,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(method === 'POST' || method === 'PUT' || method === 'PATCH'
          ? { 'content-type': 'application/json' }
          : {}),
      },
      body:
        method === 'POST' || method === 'PUT' || method === 'PATCH' ? bodyFor(target) : undefined,
    });

  before(async () => {
    stack = await startStack({ worker: false });
    uiDir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-guard-ui-'));
    await writeFile(path.join(uiDir, 'index.html'), '<!doctype html><title>ui</title>');
    await writeFile(path.join(uiDir, '404.html'), '<!doctype html><title>lost</title>');
    await writeFile(path.join(uiDir, 'x.html'), '<!doctype html><title>x</title>');
    // With the UI, as the desktop app runs: its public catch-all is the route to get around.
    app = await buildApp({ ...stack.app.deps, uiDir });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;

    const all = registeredRoutes(app).flatMap(({ pattern, methods }) =>
      methods.map((method) => ({ method, pattern, path: fill(pattern) })),
    );
    protectedRoutes = all.filter((r) => !PUBLIC.has(r.pattern));
    publicRoutes = all.filter((r) => PUBLIC.has(r.pattern));
    // Requests no route matches are guarded too (404 handler), so they join the matrix.
    protectedRoutes.push(
      { method: 'POST', path: '/nowhere' },
      { method: 'DELETE', path: '/' },
      { method: 'PATCH', path: '/api/tasks' },
      { method: 'PUT', path: '/api/tasks/shell:1/nowhere' },
      { method: 'POST', path: '/metrics' },
    );
  });
  after(async () => {
    agent.destroy();
    await app.close();
    await stack.close();
    await rm(uiDir, { recursive: true, force: true });
  });

  test('the matrix covers every route, SSE, /metrics and the session routes', () => {
    const paths = new Set(protectedRoutes.map((r) => r.path));
    for (const expected of [
      '/api/tasks',
      '/api/tasks/bulk',
      '/api/tasks/shell:1/cancel',
      '/api/events',
      '/api/tasks/shell:1/events',
      '/api/logs/stream',
      '/api/session',
      '/api/session/sign-out',
      '/api/health/ready',
      '/api/openapi.json',
      '/metrics',
      '/api/x',
    ]) {
      assert.ok(paths.has(expected), `${expected} is not in the matrix: ${[...paths]}`);
    }
    assert.deepEqual(
      [...new Set(publicRoutes.map((r) => r.path))].sort(),
      ['/api/health', '/api/health/', '/x'],
      'the only public routes',
    );
  });

  test('without credentials every route is a 401 on its plain path; public ones answer', async () => {
    const results = await inBatches(protectedRoutes, 8, async (r) => ({
      r,
      res: await send(r.method, r.path),
    }));
    const wrong = results.filter(
      ({ r, res }) =>
        res.status !== 401 || (r.method !== 'HEAD' && errorOf(res)?.code !== 'UNAUTHORIZED'),
    );
    assert.deepEqual(
      wrong.map(({ r, res }) => `${r.method} ${r.path} → ${res.status} ${res.body.slice(0, 80)}`),
      [],
    );
    for (const r of publicRoutes.filter((p) => p.method === 'GET')) {
      assert.equal((await send('GET', r.path)).status, 200, r.path);
    }
  });

  test('no spelling of a protected path gets past the guard without credentials', async () => {
    const cases = protectedRoutes.flatMap((r) =>
      spellings(r.path).map((spelling) => ({ method: r.method, spelling })),
    );
    assert.ok(cases.length > 1000, `only ${cases.length} cases`);
    const results = await inBatches(cases, 8, async (c) => ({
      c,
      res: await send(c.method, c.spelling),
    }));
    const wrong = results.filter(({ c, res }) => !stoppedAtTheEdge(c.method, res));
    assert.deepEqual(
      wrong.map(
        ({ c, res }) => `${c.method} ${c.spelling} → ${res.status} ${res.body.slice(0, 80)}`,
      ),
      [],
      "every answer is the guard's 401, the router's 404 or a 400, in our error shape",
    );

    // Nothing ran: no task, no schedule was made by any of those requests.
    const tasks = await send('GET', '/api/tasks', TEST_TOKEN);
    assert.equal(tasks.status, 200);
    assert.deepEqual(JSON.parse(tasks.body).items, []);
    const schedules = await send('GET', '/api/schedules', TEST_TOKEN);
    assert.equal(schedules.status, 200);
    assert.doesNotMatch(schedules.body, /nightly/);
  });

  test('the router decodes what the guard guards: /%61pi/tasks is /api/tasks', async () => {
    assert.equal((await send('GET', '/%61pi/tasks')).status, 401);
    assert.equal((await send('POST', '/%61pi/tasks')).status, 401);
    assert.equal((await send('GET', '/%6Detrics')).status, 401);
    const withToken = await send('GET', '/%61pi/tasks', TEST_TOKEN);
    assert.equal(withToken.status, 200);
    assert.ok(Array.isArray(JSON.parse(withToken.body).items));
    const metrics = await send('GET', '/%6Detrics', TEST_TOKEN);
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /# HELP/);
  });

  test('with the token every plain path gets past the guard', async () => {
    const routes = protectedRoutes.filter((r) => !r.path.endsWith('/sign-out'));
    const results = await inBatches(routes, 8, async (r) => ({
      r,
      res: await send(r.method, r.path, TEST_TOKEN),
    }));
    // Any answer of the handler counts (a 404 for the sample id, 503 "not ready": no worker).
    const refused = results.filter(
      ({ res }) => res.status === 401 || res.status === 403 || res.status === 500,
    );
    assert.deepEqual(
      refused.map(({ r, res }) => `${r.method} ${r.path} → ${res.status} ${res.body.slice(0, 80)}`),
      [],
    );
    const events = results.find(({ r }) => r.method === 'GET' && r.path === '/api/events');
    assert.equal(events?.res.status, 200);
    assert.match(String(events?.res.headers['content-type']), /text\/event-stream/);
    const created = results.find(({ r }) => r.method === 'POST' && r.path === '/api/tasks');
    assert.equal(created?.res.status, 201, 'the same body the matrix sent creates a task');
  });
});
