import net from 'node:net';
import type { StoreInfo } from '@taskdock/shared/contract';
import type { StoreSetting } from '../config.ts';
import { RedisBinaryMissingError, type RedisLookup, resolveRedisServer } from '../paths.ts';
import { StartupError } from './supervisor.ts';

/** How this start keeps tasks: a redis-server we run, the external Redis, or memory. */
export type StorePlan =
  | { readonly mode: 'redis'; readonly binary: string; readonly source: string }
  | { readonly mode: 'external' }
  | { readonly mode: 'memory'; readonly reason: string };

/**
 * TASKDOCK_REDIS_URL → that Redis only (down is an error, never a switch); TASKDOCK_STORE=memory
 * → memory; else the bundled or found redis-server, and with `auto` memory when there is none.
 * A TASKDOCK_REDIS_SERVER that is set but wrong is an error in every mode: it was asked for.
 */
export function planStore(
  settings: { readonly store: StoreSetting; readonly redisUrl: string | undefined },
  lookup: RedisLookup,
): StorePlan {
  if (settings.redisUrl !== undefined) return { mode: 'external' };
  if (settings.store === 'memory') return { mode: 'memory', reason: 'TASKDOCK_STORE=memory' };
  try {
    const found = resolveRedisServer(lookup);
    return { mode: 'redis', binary: found.path, source: found.source };
  } catch (err) {
    if (settings.store === 'auto' && err instanceof RedisBinaryMissingError && !lookup.override) {
      return { mode: 'memory', reason: 'no redis-server was found (bundled or on PATH)' };
    }
    throw new StartupError('redis', (err as Error).message);
  }
}

/** The memory plan after a redis-server that was found could not start. */
export function memoryAfterFailedRedis(binary: string, failure: StartupError): StorePlan {
  return { mode: 'memory', reason: `redis-server (${binary}) could not start: ${failure.reason}` };
}

/** What the backend and runtime.json are told about the store. */
export function storeInfo(plan: StorePlan): StoreInfo {
  switch (plan.mode) {
    case 'memory':
      return { mode: 'memory', reason: plan.reason };
    case 'external':
      return { mode: 'redis', reason: 'TASKDOCK_REDIS_URL is set' };
    case 'redis':
      return { mode: 'redis', reason: `redis-server from ${plan.source} (${plan.binary})` };
  }
}

/** Reason shown beside redis and worker on the services page in memory mode. */
export const notUsedInMemoryMode = (reason: string) => `not used in memory mode: ${reason}`;

/**
 * An external Redis that does not even accept a connection fails the start at once, saying so
 * (not the worker's gate timeout later). Only the address is named: the URL may hold a password.
 */
export async function checkExternalRedis(url: string, timeoutMs = 3000): Promise<void> {
  const { hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const address = `${hostname}:${port || 6379}`;
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port: Number(port || 6379) });
    const fail = (reason: string) => {
      socket.destroy();
      reject(
        new StartupError(
          'redis',
          `the Redis at TASKDOCK_REDIS_URL (${address}) does not answer (${reason}). Start it, ` +
            'or unset TASKDOCK_REDIS_URL: with a Redis given, Taskdock never falls back to memory mode.',
        ),
      );
    };
    socket.setTimeout(timeoutMs, () => fail(`no connection within ${timeoutMs} ms`));
    socket.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
  });
}
