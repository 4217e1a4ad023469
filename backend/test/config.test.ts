import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@taskdock/shared/node/settings';
import { loadConfig } from '../src/config.ts';

const base = {
  TASKDOCK_REDIS_URL: 'redis://:pw@127.0.0.1:6390',
  TASKDOCK_DATA_DIR: '/var/lib/taskdock',
};

test('defaults follow SPEC 2', () => {
  const config = loadConfig(base);
  assert.equal(config.port, 0);
  assert.deepEqual(config.workflows, ['*']);
  assert.equal(config.concurrency, 4);
  assert.equal(config.maxPerOwner, 3);
  assert.equal(config.retentionDays, 7);
  assert.ok(Object.isFrozen(config));
});

test('every bad variable is reported at once, by name, with what was expected', () => {
  try {
    loadConfig({
      TASKDOCK_REDIS_URL: 'http://x',
      TASKDOCK_PORT: '70000',
      TASKDOCK_CONCURRENCY: 'four',
      TASKDOCK_WORKFLOWS: 'shell, http/x',
      TASKDOCK_TOKEN: 'short',
      TASKDOCK_GLOBAL_CONCURRENCY: 'shell=0',
      TASKDOCK_DATA_DIR: 'relative/dir',
    });
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join('\n');
    for (const name of [
      'TASKDOCK_REDIS_URL',
      'TASKDOCK_PORT',
      'TASKDOCK_CONCURRENCY',
      'TASKDOCK_WORKFLOWS',
      'TASKDOCK_TOKEN',
      'TASKDOCK_GLOBAL_CONCURRENCY',
      'TASKDOCK_DATA_DIR',
    ]) {
      assert.match(text, new RegExp(name));
    }
    assert.equal(err.problems.length, 7);
    assert.match(text, /TASKDOCK_PORT must be an integer from 0 to 65535, got "70000"/);
  }
});

test('a missing Redis URL with TASKDOCK_STORE=redis says who sets it', () => {
  assert.throws(
    () => loadConfig({ TASKDOCK_STORE: 'redis' }),
    /TASKDOCK_REDIS_URL is required with TASKDOCK_STORE=redis/,
  );
});

test('workflow globs and global concurrency parse', () => {
  const config = loadConfig({
    ...base,
    TASKDOCK_WORKFLOWS: 'shell, http*',
    TASKDOCK_GLOBAL_CONCURRENCY: 'shell=2,http=10',
  });
  assert.deepEqual(config.workflows, ['shell', 'http*']);
  assert.deepEqual(config.globalConcurrency, { shell: 2, http: 10 });
});

test('workflow folders: <dataDir>/workflows by default, else the path list, absolute only', () => {
  assert.deepEqual(loadConfig({ ...base, TASKDOCK_DATA_DIR: '/data' }).workflowsPath, [
    '/data/workflows',
  ]);
  assert.deepEqual(
    loadConfig({ ...base, TASKDOCK_WORKFLOWS_PATH: '/a/flows:/b/more' }).workflowsPath,
    ['/a/flows', '/b/more'],
  );
  assert.throws(
    () => loadConfig({ ...base, TASKDOCK_WORKFLOWS_PATH: '/ok:relative/flows' }),
    /TASKDOCK_WORKFLOWS_PATH must list absolute paths, got "relative\/flows"/,
  );
});
