import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@taskdock/shared/node/ports';
import { Redis } from 'ioredis';

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** A fresh client (closed by `stop`); BullMQ workers need maxRetriesPerRequest null. */
  client(): Redis;
  stop(): Promise<void>;
}

export interface TestRedisOptions {
  /** Require this password, as the supervisor's server does (set after start: not in argv). */
  readonly password?: string;
  /** More redis-server arguments (e.g. cluster mode). */
  readonly args?: readonly string[];
}

/**
 * Starts a real redis-server (TASKDOCK_REDIS_SERVER, else `redis-server` on PATH) on a free
 * loopback port in a temp dir; `stop` kills it by its pid and removes the dir.
 */
export async function startRedisServer(options: TestRedisOptions = {}): Promise<TestRedis> {
  const binary = process.env.TASKDOCK_REDIS_SERVER || 'redis-server';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-test-redis-'));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        ...(options.args ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (d) => {
      output += d;
    });
    child.stderr?.on('data', (d) => {
      output += d;
    });
    const ready = await waitForPing(port, child);
    if (ready) {
      if (options.password !== undefined) await requirePassword(port, options.password);
      return handle(port, child, dir, options.password);
    }
    child.kill('SIGKILL');
    if (attempt >= 3) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start (is it installed?):\n${output}`);
    }
  }
}

async function waitForPing(port: number, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && child.exitCode === null) {
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    probe.on('error', () => {});
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return true;
    } catch {
      await new Promise((r) => setTimeout(r, 30));
    } finally {
      probe.disconnect();
    }
  }
  return false;
}

async function requirePassword(port: number, password: string): Promise<void> {
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
  try {
    await client.config('SET', 'requirepass', password);
  } finally {
    client.disconnect();
  }
}

function handle(port: number, child: ChildProcess, dir: string, password?: string): TestRedis {
  const clients: Redis[] = [];
  const auth = password === undefined ? '' : `:${encodeURIComponent(password)}@`;
  const url = `redis://${auth}127.0.0.1:${port}`;
  return {
    url,
    port,
    pid: child.pid as number,
    client() {
      const client = new Redis(url, { maxRetriesPerRequest: null });
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
