import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { LogStore, parseLine } from '../../src/supervisor/logs.ts';
import { removeDir, tempDir } from '../helpers/process.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await removeDir(dir);
});

describe('parseLine', () => {
  test('reads level, message, time and fields from pino JSON', () => {
    const line = JSON.stringify({
      level: 40,
      time: Date.UTC(2025, 0, 2, 3, 4, 5),
      pid: 1,
      hostname: 'h',
      service: 'worker',
      msg: 'heartbeat failed',
      err: { message: 'ECONNREFUSED', type: 'Error' },
      workerId: 'w1',
    });
    const parsed = parseLine(line, 'stdout');
    assert.equal(parsed.level, 'warn');
    assert.equal(parsed.text, 'heartbeat failed: ECONNREFUSED');
    assert.equal(parsed.ts, '2025-01-02T03:04:05.000Z');
    assert.deepEqual(parsed.fields, {
      err: { message: 'ECONNREFUSED', type: 'Error' },
      workerId: 'w1',
    });
  });

  test("reads redis-server's level marks", () => {
    assert.deepEqual(
      parseLine('123:M 01 Jan 2025 10:00:00.123 * Ready to accept connections', 'stdout'),
      {
        level: 'info',
        text: 'Ready to accept connections',
      },
    );
    assert.equal(
      parseLine('123:M 01 Jan 2025 10:00:00.123 # Bad file format', 'stdout').level,
      'warn',
    );
  });

  test("redis' ordinary start and stop notices read as info, real warnings stay warn", () => {
    const at = (text: string) =>
      parseLine(`1:C 01 Jan 2025 10:00:00.123 # ${text}`, 'stdout').level;
    for (const notice of [
      'oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo',
      'Redis version=7.0.15, bits=64, commit=00000000, modified=0, pid=1, just started',
      'Configuration loaded',
      'Server initialized',
      'User requested shutdown...',
      'Redis is now ready to exit, bye bye...',
    ]) {
      assert.equal(at(notice), 'info', notice);
    }
    assert.equal(at('WARNING Memory overcommit must be enabled!'), 'warn');
  });

  test('plain lines: info on stdout, error on stderr; JSON without a level stays plain', () => {
    assert.deepEqual(parseLine('hello', 'stdout'), { level: 'info', text: 'hello' });
    assert.equal(parseLine('TypeError: x is not a function', 'stderr').level, 'error');
    assert.deepEqual(parseLine('{"a":1}', 'stdout'), { level: 'info', text: '{"a":1}' });
  });
});

describe('LogStore', () => {
  test('joins chunks into lines, keeps an unterminated last line until flushed', async () => {
    const store = new LogStore({ dir: undefined });
    store.capture('worker', 'stdout', 'first li');
    store.capture('worker', 'stdout', 'ne\nsecond');
    assert.deepEqual(store.tail('worker'), ['first line']);
    store.flush('worker', 'stdout');
    assert.deepEqual(store.tail('worker'), ['first line', 'second']);
  });

  test('queries by service, minimum level, text and seq; newest `limit`, oldest first', () => {
    const store = new LogStore({ dir: undefined });
    store.capture('redis', 'stdout', '1:M 01 Jan 2025 10:00:00.000 * ready\n');
    store.capture(
      'worker',
      'stdout',
      `${JSON.stringify({ level: 30, msg: 'worker ready', workerId: 'abc' })}\n`,
    );
    store.capture('worker', 'stderr', 'boom\n');
    store.system('backend', 'warn', 'restarting');

    assert.deepEqual(
      store.query({ service: 'worker' }).map((l) => l.text),
      ['worker ready', 'boom'],
    );
    assert.deepEqual(
      store.query({ level: 'warn' }).map((l) => `${l.service}:${l.text}`),
      ['worker:boom', 'backend:restarting'],
    );
    assert.deepEqual(
      store.query({ q: 'ABC' }).map((l) => l.text),
      ['worker ready'],
      'fields are searched',
    );
    const all = store.query({});
    assert.equal(all.length, 4);
    assert.ok(all.every((l, i) => i === 0 || l.seq > (all[i - 1]?.seq ?? 0)));
    assert.deepEqual(
      store.query({ limit: 2 }).map((l) => l.text),
      ['boom', 'restarting'],
    );
    assert.deepEqual(
      store.query({ after: all[2]?.seq }).map((l) => l.text),
      ['restarting'],
    );
  });

  test("a chatty service never evicts another one's last words", () => {
    const store = new LogStore({ dir: undefined, bufferLines: 100 });
    store.capture('redis', 'stdout', 'last words of redis\n');
    for (let i = 0; i < 1000; i++) store.capture('worker', 'stdout', `line ${i}\n`);
    assert.deepEqual(store.tail('redis', 5), ['last words of redis']);
    const worker = store.query({ service: 'worker', limit: 5000 });
    assert.ok(worker.length <= 125, `bounded buffer, got ${worker.length}`);
    assert.equal(worker.at(-1)?.text, 'line 999');
  });

  test('writes every line to <dir>/<service>.log, size-capped and rotated', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const store = new LogStore({ dir, maxFileBytes: 4096, keepFiles: 2 });
    for (let i = 0; i < 400; i++)
      store.capture('backend', 'stdout', `line number ${i} ${'x'.repeat(40)}\n`);
    store.system('redis', 'error', 'redis was killed by SIGKILL');
    store.close();

    const files = (await readdir(dir)).sort();
    assert.deepEqual(files, ['backend.1.log', 'backend.2.log', 'backend.log', 'redis.log']);
    for (const file of files) {
      assert.ok((await stat(path.join(dir, file))).size <= 4096, `${file} is capped`);
      assert.equal((await stat(path.join(dir, file))).mode & 0o777, 0o600);
    }
    const current = await readFile(path.join(dir, 'backend.log'), 'utf8');
    assert.match(current, /INFO {2}stdout line number 399 x+\n$/);
    assert.match(
      await readFile(path.join(dir, 'redis.log'), 'utf8'),
      /ERROR system redis was killed by SIGKILL/,
    );
  });
});
