import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  type RuntimeInfo,
  readRuntimeFile,
  runtimeSupervisor,
  writeRuntimeFile,
} from '../src/node/runtime-file.ts';

const dir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-runtime-'));
after(() => rm(dir, { recursive: true, force: true }));

const info: RuntimeInfo = {
  apiUrl: 'http://127.0.0.1:7300',
  token: 'token-0123456789abcdef',
  store: { mode: 'memory', reason: 'TASKDOCK_STORE=memory' },
  redis: null,
  pids: { redis: null, worker: null, backend: 4242 },
  uiUrl: 'http://127.0.0.1:7300/?login=x.y',
  supervisor: runtimeSupervisor(process.pid),
};

test('what the supervisor writes (0600: it holds the token) is what a reader gets', async () => {
  const file = path.join(dir, 'runtime.json');
  await writeRuntimeFile(file, info);
  assert.deepEqual(await readRuntimeFile(file), info);
  if (process.platform !== 'win32') assert.equal((await stat(file)).mode & 0o777, 0o600);
});

test('a file of another shape is no runtime.json to a reader', async () => {
  const file = path.join(dir, 'other.json');
  for (const text of ['{"apiUrl": 7300}', JSON.stringify({ ...info, pids: {} }), 'not json', '']) {
    await writeFile(file, text);
    assert.equal(await readRuntimeFile(file), undefined, text);
  }
  assert.equal(await readRuntimeFile(path.join(dir, 'missing.json')), undefined);
});
