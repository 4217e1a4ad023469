// prepare:resources when the network is not there. "No network" is simulated with URLs on
// 127.0.0.1: a port nothing listens on (connection refused), and a local HTTP server that serves
// the wrong bytes. No traffic leaves the machine; nothing is built.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from '../lib/redis-manifest.ts';

const SCRIPT = path.join(ROOT, 'scripts', 'prepare-resources.ts');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

async function prepare(args: string[]): Promise<Result> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
  });
  // A hang is the bug this file looks for: kill after 20 s and fail.
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(killer);
  return { code, stdout, stderr, ms: Date.now() - started };
}

async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

describe('prepare:resources offline', () => {
  let cacheDir: string;
  before(async () => {
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-prepare-'));
  });
  after(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('fails at once with a clear message when nothing can be downloaded', async () => {
    const port = await closedPort();
    const r = await prepare([
      '--source',
      'download',
      '--fetch-only',
      '--mirror',
      `http://127.0.0.1:${port}`,
      '--cache-dir',
      cacheDir,
      '--connect-timeout-ms',
      '2000',
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
    assert.match(
      r.stderr,
      /FAILED: cannot get the Redis source tarball and the Debian patch archive \(offline\?\)/,
    );
    assert.match(r.stderr, /ECONNREFUSED/);
    assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}/redis-7\\.0\\.15\\.tar\\.gz`));
    // It says how to get out of it.
    assert.match(r.stderr, /--tarball\/--patches <file>/);
    assert.ok(r.stderr.includes(cacheDir));
    assert.deepEqual(await readdir(cacheDir), [], 'no partial downloads left behind');
  });

  it('rejects a download whose sha256 is not the pinned one, and keeps nothing', async () => {
    const server = http.createServer((_req, res) => res.end('not the redis source'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    try {
      const r = await prepare([
        '--source',
        'download',
        '--fetch-only',
        '--mirror',
        `http://127.0.0.1:${port}`,
        '--cache-dir',
        cacheDir,
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /sha256 [0-9a-f]{64} is not the pinned 4b1dc4ee/);
      assert.deepEqual(await readdir(cacheDir), []);
    } finally {
      server.close();
    }
  });

  it('rejects a local tarball that matches no pin', async () => {
    const file = path.join(cacheDir, 'redis-7.0.15.tar.gz');
    await writeFile(file, 'tampered');
    const r = await prepare([
      '--tarball',
      file,
      '--fetch-only',
      '--source',
      'download',
      '--mirror',
      'http://127.0.0.1:9',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /which is none of the pinned ones/);
    await rm(file);
    assert.ok(!existsSync(file));
  });

  it('reports bad options with usage, exit code 2', async () => {
    const r = await prepare(['--target', 'solaris-sparc']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--target must be one of linux-x64/);
    const unknown = await prepare(['--frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Usage: npm run prepare:resources/);
  });
});
