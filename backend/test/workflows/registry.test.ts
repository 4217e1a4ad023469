import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickEnv } from '@taskdock/shared/node/env';
import { parseProgressLine } from '../../src/workflows/command-run.ts';
import {
  builtInWorkflows,
  createWorkflowRegistry,
  matchesAnyGlob,
} from '../../src/workflows/registry.ts';

test('::progress lines parse into percent and optional step', () => {
  assert.deepEqual(parseProgressLine('::progress 40 compiling sources'), {
    percent: 40,
    step: 'compiling sources',
  });
  assert.deepEqual(parseProgressLine('  ::progress 12.5'), { percent: 12.5 });
  assert.deepEqual(parseProgressLine('::progress 250'), { percent: 100 });
  assert.equal(parseProgressLine('progress 40'), null);
  assert.equal(parseProgressLine('::progress forty'), null);
});

test('globs select workflows as TASKDOCK_WORKFLOWS documents', () => {
  assert.ok(matchesAnyGlob('http', ['shell', 'http*']));
  assert.ok(matchesAnyGlob('http.v2', ['http*']));
  assert.ok(!matchesAnyGlob('shellx', ['shell']));
  assert.ok(matchesAnyGlob('anything', ['*']));
  assert.ok(!matchesAnyGlob('sleep', ['s?ee']));
});

test('the registry validates params and reports each failing field', () => {
  const registry = createWorkflowRegistry(builtInWorkflows({ baseEnv: {} }));
  assert.deepEqual(
    registry.list().map((w) => w.name),
    ['shell', 'http', 'sleep'],
  );
  const bad = registry.checkParams('http', { url: 'ftp://x', method: 'BREW', extra: 1 });
  assert.equal(bad.ok, false);
  if (!bad.ok) {
    assert.deepEqual([...new Set(bad.errors.map((e) => e.path))].sort(), [
      '/extra',
      '/method',
      '/url',
    ]);
  }
  const good = registry.checkParams('http', { url: 'http://127.0.0.1/' });
  assert.deepEqual(good, { ok: true, params: { url: 'http://127.0.0.1/', method: 'GET' } });
  assert.throws(
    () => createWorkflowRegistry([...registry.list(), ...registry.list()]),
    /registered twice/,
  );
});

test('commands inherit only the listed variables', () => {
  assert.deepEqual(pickEnv({ PATH: '/bin', SECRET: 'x', HOME: '/h' }, ['PATH', 'HOME', 'LANG']), {
    PATH: '/bin',
    HOME: '/h',
  });
});
