import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ensureToken, readTokenFile } from '../src/node/token-file.ts';

const root = await mkdtemp(path.join(os.tmpdir(), 'taskdock-token-'));
after(() => rm(root, { recursive: true, force: true }));

test('the first start makes the data dir (0700) and a 0600 token; later starts read it', async () => {
  const dataDir = path.join(root, 'fresh', 'Taskdock');
  const token = await ensureToken(dataDir);
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  if (process.platform !== 'win32') {
    assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
    assert.equal((await stat(path.join(dataDir, 'token'))).mode & 0o777, 0o600);
  }
  assert.equal(await ensureToken(dataDir), token);
  assert.equal(await readTokenFile(dataDir), token);
});

test('processes starting at once on a new data dir agree on one token', async () => {
  const dataDir = path.join(root, 'race');
  const tokens = await Promise.all(Array.from({ length: 8 }, () => ensureToken(dataDir)));
  assert.equal(new Set(tokens).size, 1, `one token, got ${tokens.join(', ')}`);
  assert.equal((await readFile(path.join(dataDir, 'token'), 'utf8')).trim(), tokens[0]);
});

test('a token file too short to be a token is replaced, and not read as one', async () => {
  const dataDir = path.join(root, 'short');
  await ensureToken(dataDir);
  await writeFile(path.join(dataDir, 'token'), 'short\n');
  assert.equal(await readTokenFile(dataDir), undefined);
  const token = await ensureToken(dataDir);
  assert.ok(token.length >= 16);
  assert.equal(await readTokenFile(dataDir), token);
});
