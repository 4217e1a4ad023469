import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@taskdock/shared/node/ports';
import { SERVICE_NODE_FLAGS } from '../../desktop/src/paths.ts';
import type { Api } from './measures.ts';
import { startNode } from './processes.ts';

export interface BenchBackend {
  readonly api: Api;
  stop(): Promise<void>;
}

/** A backend (API and event relay) on the given Redis, with its own data dir and token. */
export async function startBenchBackend(
  redisEnv: Readonly<Record<string, string>>,
): Promise<BenchBackend> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'taskdock-bench-'));
  const token = randomBytes(24).toString('base64url');
  const port = await freePort();
  const backend = startNode(
    'backend/src/server.ts',
    [],
    {
      ...redisEnv,
      TASKDOCK_DATA_DIR: dataDir,
      TASKDOCK_TOKEN: token,
      TASKDOCK_PORT: String(port),
      TASKDOCK_LOG_LEVEL: 'warn',
    },
    SERVICE_NODE_FLAGS.backend,
  );
  const api: Api = {
    base: `http://127.0.0.1:${port}`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  };
  const stop = async () => {
    await backend.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await backend.waitFor('backend listening').catch(async () => {
      // At log level warn the listen line is not printed: poll liveness instead.
      for (let i = 0; i < 200; i++) {
        if ((await fetch(`${api.base}/api/health`).catch(() => null))?.ok) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`backend did not start:\n${backend.output()}`);
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { api, stop };
}
