import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { splashStep, splashUrl } from '../src/splash.ts';
import { trayIconPng } from '../src/tray-icon.ts';

// The parts of the Electron shell that need no Electron: main.ts itself is type-checked
// against electron's types (the binary cannot be downloaded here).

describe('tray icon', () => {
  test('is a valid RGBA PNG of the asked size', () => {
    const png = trayIconPng('running', 16);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(png.toString('ascii', 12, 16), 'IHDR');
    assert.equal(png.readUInt32BE(16), 16);
    assert.equal(png.readUInt32BE(20), 16);
    const idatLength = png.readUInt32BE(33);
    assert.equal(png.toString('ascii', 37, 41), 'IDAT');
    const pixels = inflateSync(png.subarray(41, 41 + idatLength));
    assert.equal(pixels.length, 16 * (1 + 16 * 4));
    // The centre pixel is opaque green, the corner transparent.
    const at = (x: number, y: number) => y * (1 + 16 * 4) + 1 + x * 4;
    assert.deepEqual([...pixels.subarray(at(8, 8), at(8, 8) + 4)], [0x16, 0xa3, 0x4a, 255]);
    assert.equal(pixels[at(0, 0) + 3], 0);
    assert.notDeepEqual(trayIconPng('degraded', 16), png, 'each state has its colour');
  });
});

describe('splash', () => {
  test('one row per service; events become steps', () => {
    const html = decodeURIComponent(splashUrl(['redis', 'worker']).split(',')[1] ?? '');
    assert.match(html, /id="svc-redis"/);
    assert.match(html, /id="svc-worker"/);
    const base = { service: 'redis' as const, at: 0, sinceStartMs: 0 };
    assert.deepEqual(splashStep({ ...base, type: 'ready', pid: 1, durationMs: 42 }), {
      service: 'redis',
      state: 'ready',
      text: 'ready in 42 ms',
    });
    assert.equal(
      splashStep({ ...base, type: 'failed', reason: 'port in use', lastLines: [] }).text,
      'port in use',
    );
  });
});
