// ENTRY (tooling): `npm run smoke:bundles [-- --resources <dir>]`
// Runs the bundled worker and backend against the bundled redis-server with plain node, creates
// one task through the API, waits for it to complete, stops everything and checks that nothing
// is left running. Without --resources: dist/bundles + resources-source/redis/<host>/.
// With --resources <dir>: <dir>/bundles + <dir>/redis/ (an unpacked package's resources).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { freePort } from '@taskdock/shared/node/ports';
import { ROOT } from './lib/redis-manifest.ts';

const { values } = parseArgs({
  options: { resources: { type: 'string' }, 'timeout-ms': { type: 'string', default: '30000' } },
});
const exe = process.platform === 'win32' ? 'redis-server.exe' : 'redis-server';
const bundles = values.resources
  ? path.resolve(values.resources, 'bundles')
  : path.join(ROOT, 'dist', 'bundles');
const redisBinary = values.resources
  ? path.resolve(values.resources, 'redis', exe)
  : path.join(ROOT, 'resources-source', 'redis', `${process.platform}-${process.arch}`, exe);
const deadline = Date.now() + Number(values['timeout-ms']);

const say = (msg: string) => console.log(`smoke: ${msg}`);

interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: string[];
}

const procs: Proc[] = [];

/** Child env built explicitly: only what the OS needs plus Taskdock's own variables. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '' };
  for (const k of ['HOME', 'SystemRoot', 'TEMP', 'TMP', 'TMPDIR']) {
    if (process.env[k]) env[k] = process.env[k];
  }
  return { ...env, ...extra };
}

function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  const proc: Proc = { name, child, lines: [] };
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => proc.lines.push(line));
  }
  procs.push(proc);
  return proc;
}

async function waitForLine(proc: Proc, pattern: RegExp): Promise<RegExpExecArray> {
  for (;;) {
    for (const line of proc.lines) {
      const m = pattern.exec(line);
      if (m) return m;
    }
    if (proc.child.exitCode !== null) {
      throw new Error(
        `${proc.name} exited (${proc.child.exitCode}):\n${proc.lines.slice(-15).join('\n')}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${proc.name}: timed out waiting for ${pattern}:\n${proc.lines.slice(-15).join('\n')}`,
      );
    }
    await sleep(50);
  }
}

/** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
async function stop(proc: Proc, graceMs = 10_000): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  for (const file of [
    path.join(bundles, 'server.mjs'),
    path.join(bundles, 'worker.mjs'),
    redisBinary,
  ]) {
    if (!existsSync(file))
      throw new Error(`${file} is missing (npm run build / prepare:resources)`);
  }
  const started = Date.now();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-smoke-'));
  try {
    const redisPort = await freePort();
    const password = randomBytes(16).toString('hex');
    const token = randomBytes(16).toString('hex');
    const redis = start(
      'redis',
      redisBinary,
      [
        '--port',
        String(redisPort),
        '--bind',
        '127.0.0.1',
        '--requirepass',
        password,
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dataDir,
      ],
      childEnv({}),
    );
    await waitForLine(redis, /Ready to accept connections/);
    say(`redis-server ready on ${redisPort} (${redisBinary})`);

    const env = childEnv({
      TASKDOCK_REDIS_URL: `redis://:${password}@127.0.0.1:${redisPort}`,
      TASKDOCK_TOKEN: token,
      TASKDOCK_DATA_DIR: dataDir,
      TASKDOCK_PORT: '0',
      TASKDOCK_LOG_LEVEL: 'info',
    });
    const worker = start('worker', process.execPath, [path.join(bundles, 'worker.mjs')], env);
    const backend = start('backend', process.execPath, [path.join(bundles, 'server.mjs')], env);
    const listening = await waitForLine(backend, /"url":"(http:\/\/[^"]+)"/);
    const base = listening[1];
    say(`backend listening at ${base}`);

    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = await fetch(`${base}/api/tasks`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ workflow: 'sleep', params: { ms: 10 } }),
    });
    const task = (await created.json()) as { id: string; status: string };
    if (created.status !== 201)
      throw new Error(`POST /api/tasks: ${created.status} ${JSON.stringify(task)}`);
    say(`task ${task.id} created (${task.status})`);

    let status = task.status;
    while (!['completed', 'failed', 'cancelled'].includes(status)) {
      if (Date.now() > deadline)
        throw new Error(
          `task ${task.id} still ${status}; worker log:\n${worker.lines.slice(-10).join('\n')}`,
        );
      await sleep(100);
      const res = await fetch(`${base}/api/tasks/${task.id}`, { headers });
      status = ((await res.json()) as { status: string }).status;
    }
    if (status !== 'completed') throw new Error(`task ${task.id} ended ${status}`);
    say(`task ${task.id} completed in ${Date.now() - started} ms from start`);
  } finally {
    // Backend and worker first (they hold Redis connections), then redis-server.
    for (const name of ['backend', 'worker', 'redis']) {
      const proc = procs.find((p) => p.name === name);
      if (proc) await stop(proc);
    }
    await rm(dataDir, { recursive: true, force: true });
  }
  const left = procs.filter((p) => alive(p.child.pid)).map((p) => `${p.name} (pid ${p.child.pid})`);
  if (left.length > 0) throw new Error(`still running after stop: ${left.join(', ')}`);
  say(`all stopped, nothing left running; ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
}

try {
  await main();
} catch (err) {
  console.error(`smoke: FAILED: ${(err as Error).message}`);
  for (const p of procs) if (alive(p.child.pid)) p.child.kill('SIGKILL');
  process.exit(1);
}
