import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { ConfigError } from '@taskdock/shared/node/settings';
import { loadConfig } from '../../src/config.ts';
import { capResult } from '../../src/worker/result-cap.ts';
import {
  CUT_MARKER,
  LineSplitter,
  pumpLines,
  Tail,
  truncateUtf8,
} from '../../src/workflows/output-lines.ts';

const bytes = (text: string) => Buffer.byteLength(text);
const split = (maxBytes: number, ...chunks: (string | Buffer)[]) => {
  const splitter = new LineSplitter(maxBytes);
  const lines = chunks.flatMap((chunk) => splitter.push(Buffer.from(chunk)));
  return [...lines, ...splitter.end()];
};

describe('LineSplitter', () => {
  test('splits on LF and CRLF, also when CR and LF arrive in different chunks', () => {
    assert.deepEqual(split(64, 'a\nb\r\nc'), ['a', 'b', 'c']);
    assert.deepEqual(split(64, 'one\r', '\ntwo\r', '\n'), ['one', 'two']);
    // A CR that ends no line is text.
    assert.deepEqual(split(64, 'x\ry\n\n'), ['x\ry', '']);
  });

  test('a line longer than the cap comes out in marked pieces of at most the cap', () => {
    const line = 'x'.repeat(1000);
    const pieces = split(100, `${line}\nnext\n`);
    assert.equal(pieces.at(-1), 'next');
    const parts = pieces.slice(0, -1);
    assert.ok(parts.length >= 10);
    for (const piece of parts) assert.ok(bytes(piece) <= 100, `${bytes(piece)} bytes`);
    for (const piece of parts.slice(0, -1)) assert.ok(piece.endsWith(CUT_MARKER));
    assert.ok(!parts.at(-1)?.endsWith(CUT_MARKER), 'the last piece ends the line');
    assert.equal(parts.join('').replaceAll(CUT_MARKER, ''), line, 'nothing is lost');
  });

  test('a long line fed in small chunks is cut as it streams, before its end arrives', () => {
    const splitter = new LineSplitter(64);
    let emitted = 0;
    for (let i = 0; i < 1000; i++) emitted += splitter.push(Buffer.from('z'.repeat(10))).length;
    // 10,000 bytes of one unfinished line: pieces are out already, at most one cap is held.
    assert.ok(emitted >= Math.floor(10_000 / 64), `${emitted} pieces before the newline`);
    const rest = splitter.end();
    assert.equal(rest.length, 1);
    assert.ok(bytes(rest[0] as string) <= 64);
  });

  test('a character split across chunks is decoded whole', () => {
    const euro = Buffer.from('€'); // 3 bytes
    const pieces = split(
      64,
      Buffer.from('price '),
      euro.subarray(0, 1),
      euro.subarray(1, 2),
      Buffer.concat([euro.subarray(2), Buffer.from(' 5\n')]),
    );
    assert.deepEqual(pieces, ['price € 5']);
  });

  test('a cut at the cap never splits a multi-byte character', () => {
    const line = '€'.repeat(100) + '😀'.repeat(50);
    const pieces = split(20, Buffer.from(line).subarray(0, 7), Buffer.from(line).subarray(7));
    for (const piece of pieces) {
      assert.ok(bytes(piece) <= 20);
      assert.ok(!piece.includes('\uFFFD'), `no replacement character in ${JSON.stringify(piece)}`);
    }
    assert.equal(pieces.join('').replaceAll(CUT_MARKER, ''), line);
  });
});

test('pumpLines waits for each line before reading on', async () => {
  const seen: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  await pumpLines(Readable.from([Buffer.from('a\nb\n'), Buffer.from('c')]), 64, async (line) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 5));
    seen.push(line);
    inFlight--;
  });
  assert.deepEqual(seen, ['a', 'b', 'c']);
  assert.equal(maxInFlight, 1);
});

test('truncateUtf8 keeps short texts and cuts long ones within the cap, marked', () => {
  assert.equal(truncateUtf8('short', 64), 'short');
  const cut = truncateUtf8('é'.repeat(100), 51);
  assert.ok(bytes(cut) <= 51);
  assert.ok(cut.endsWith(CUT_MARKER));
  assert.ok(!cut.includes('\uFFFD'));
});

test('Tail keeps the newest lines within its line and byte limits, and says it dropped some', () => {
  const tail = new Tail(3, 10);
  tail.push('ab');
  assert.equal(tail.truncated, false);
  for (const line of ['cd', 'ef', 'gh']) tail.push(line);
  assert.equal(tail.text(), 'cd\nef\ngh');
  assert.equal(tail.truncated, true);
  tail.push('0123456789abc');
  assert.ok(bytes(tail.text()) <= 10);
  assert.ok(tail.text().endsWith(CUT_MARKER));
});

describe('capResult', () => {
  test('a result within the cap is stored as it is', () => {
    const value = { exitCode: 0, stdoutTail: 'ok' };
    assert.equal(capResult(value, 4096), value);
    assert.equal(capResult(undefined, 4096), undefined);
  });

  test('a bigger result becomes a preview that fits the cap even when escaped again', () => {
    // Quotes and backslashes double when the preview is stored as JSON: the worst case.
    const value = { text: '"\\'.repeat(100_000) };
    const json = JSON.stringify(value);
    const stored = capResult(value, 4096) as { truncated: true; bytes: number; preview: string };
    assert.equal(stored.truncated, true);
    assert.equal(stored.bytes, bytes(json));
    assert.ok(json.startsWith(stored.preview));
    assert.ok(stored.preview.length > 1000, 'the preview is not empty');
    assert.ok(bytes(JSON.stringify(stored)) <= 4096, `${bytes(JSON.stringify(stored))} bytes`);
  });
});

test('the caps come from TASKDOCK_* variables, with defaults, and bad values are all reported', () => {
  const base = { TASKDOCK_REDIS_URL: 'redis://127.0.0.1:6379', TASKDOCK_DATA_DIR: '/tmp' };
  const defaults = loadConfig(base);
  assert.deepEqual(
    [
      defaults.maxResultBytes,
      defaults.maxLogLines,
      defaults.maxLogLineBytes,
      defaults.maxHttpBodyBytes,
    ],
    [1024 * 1024, 5000, 8192, 64 * 1024],
  );
  assert.equal(loadConfig({ ...base, TASKDOCK_MAX_LOG_LINES: '200' }).maxLogLines, 200);
  assert.throws(
    () =>
      loadConfig({
        ...base,
        TASKDOCK_MAX_RESULT_BYTES: '10',
        TASKDOCK_MAX_LOG_LINES: '0',
        TASKDOCK_MAX_LOG_LINE_BYTES: '8k',
        TASKDOCK_MAX_HTTP_BODY_BYTES: String(2 ** 40),
      }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.length === 4 &&
      err.problems.every((p) => /^TASKDOCK_MAX_\w+ must be an integer from \d+ to \d+/.test(p)),
  );
});
