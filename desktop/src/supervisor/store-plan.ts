import net from 'node:net';
import type { StoreInfo } from '@taskdock/shared/contract';
import {
  REDIS_FORM_VARIABLES,
  type RedisAddress,
  type RedisConnectionSpec,
} from '@taskdock/shared/node/redis-connection';
import type { StoreSetting } from '../config.ts';
import { RedisBinaryMissingError, type RedisLookup, resolveRedisServer } from '../paths.ts';
import { StartupError } from './supervisor.ts';

/** How this start keeps tasks: a redis-server we run, the external Redis, or memory. */
export type StorePlan =
  | { readonly mode: 'redis'; readonly binary: string; readonly source: string }
  | { readonly mode: 'external'; readonly spec: RedisConnectionSpec }
  | { readonly mode: 'memory'; readonly reason: string };

/**
 * An external Redis (TASKDOCK_REDIS_URL, _SENTINELS or _CLUSTER) → that Redis only, and no
 * redis-server of ours (down is an error, never a switch); TASKDOCK_STORE=memory
 * → memory; else the bundled or found redis-server, and with `auto` memory when there is none.
 * A TASKDOCK_REDIS_SERVER that is set but wrong is an error in every mode: it was asked for.
 */
export function planStore(
  settings: { readonly store: StoreSetting; readonly redis: RedisConnectionSpec | undefined },
  lookup: RedisLookup,
): StorePlan {
  if (settings.redis !== undefined) return { mode: 'external', spec: settings.redis };
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
      return { mode: 'redis', reason: `${REDIS_FORM_VARIABLES[plan.spec.form]} is set` };
    case 'redis':
      return { mode: 'redis', reason: `redis-server from ${plan.source} (${plan.binary})` };
  }
}

/** Reason shown beside redis and worker on the services page in memory mode. */
export const notUsedInMemoryMode = (reason: string) => `not used in memory mode: ${reason}`;

/**
 * An external Redis none of whose addresses even accepts a connection fails the start at once,
 * saying so (not the worker's gate timeout later). Only addresses are named, never a password.
 * For Sentinel and Cluster one answering address is enough: the others may be down.
 */
export async function checkExternalRedis(
  spec: RedisConnectionSpec,
  timeoutMs = 3000,
): Promise<void> {
  const addresses =
    spec.form === 'url' ? [spec.address] : spec.form === 'sentinel' ? spec.sentinels : spec.nodes;
  const failures: string[] = [];
  for (const address of addresses) {
    const reason = await tcpConnect(address, timeoutMs);
    if (reason === undefined) return;
    failures.push(addresses.length > 1 ? `${address.host}:${address.port}: ${reason}` : reason);
  }
  const variable = REDIS_FORM_VARIABLES[spec.form];
  const where = addresses.map((a) => `${a.host}:${a.port}`).join(', ');
  throw new StartupError(
    'redis',
    `the Redis at ${variable} (${where}) does not answer (${failures.join('; ')}). ` +
      `Start it, or unset ${variable}: with a Redis given, Taskdock never falls back to memory mode.`,
  );
}

/** Undefined once a TCP connection opens; else why not. */
function tcpConnect(address: RedisAddress, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address.host, port: address.port });
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => done(`no connection within ${timeoutMs} ms`));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    socket.once('connect', () => done(undefined));
  });
}
