// ENTRY: the worker process. Config → Redis → workflows → worker; stops on SIGTERM/SIGINT.

import { OS_ENV_KEYS, pickEnv } from '@taskdock/shared/node/env';
import { createRedisConnection, describeRedis } from '@taskdock/shared/node/redis-connection';
import { ConfigError } from '@taskdock/shared/node/settings';
import { loadConfig } from '../config.ts';
import { readInheritedSecrets } from '../inherited-secrets.ts';
import { createLogger } from '../logger.ts';
import { parentPidFromEnv, watchParent } from '../parent-watch.ts';
import { probeRedis, RedisEvictionPolicyError } from '../redis-probe.ts';
import { keyPrefixFor, useKeyPrefix } from '../tasks/keys.ts';
import { builtInWorkflows, createWorkflowRegistry } from '../workflows/registry.ts';
import { watchWorkflowFolders } from '../workflows/workflow-watcher.ts';
import { createProcessGroups } from './process-groups.ts';
import { createTaskWorker } from './task-worker.ts';

let config: ReturnType<typeof loadConfig>;
try {
  // The supervisor hands the Redis password and token over on a pipe, not in the environment.
  config = loadConfig({ ...process.env, ...(await readInheritedSecrets(process.env)) });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(78);
}
if (!config.redis) {
  // In memory mode the backend runs the tasks itself: a worker process has nothing to serve.
  console.error(
    'Invalid configuration:\n  - a worker needs Redis: set TASKDOCK_REDIS_URL, TASKDOCK_REDIS_SENTINELS or TASKDOCK_REDIS_CLUSTER (memory mode runs tasks in the backend)',
  );
  process.exit(78);
}

const logger = createLogger('worker', config.logLevel);
// On a Cluster every key goes under one hash tag (docs/engine.md "Keys on a Cluster").
useKeyPrefix(keyPrefixFor(config.redis.form));
const redis = createRedisConnection(config.redis, {
  connectionName: 'taskdock-worker',
  // BullMQ's blocking reads need it (the worker's Workers duplicate this client).
  maxRetriesPerRequest: null,
});
redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
try {
  // A worker alone on its host checks its Redis as the backend does (redis-probe.ts).
  await probeRedis(redis, config.redis);
} catch (err) {
  if (!(err instanceof RedisEvictionPolicyError)) throw err;
  logger.fatal({ redis: describeRedis(config.redis) }, err.message);
  process.exit(78);
}
const processGroups = createProcessGroups({ redis, logger });
const baseEnv = pickEnv(process.env, OS_ENV_KEYS);
const registry = createWorkflowRegistry(builtInWorkflows({ baseEnv, processGroups }));
// Loaded before the worker starts, then watched: the worker serves what loads, as it changes.
const workflowFiles = await watchWorkflowFolders({
  folders: config.workflowsPath,
  registry,
  load: { baseEnv, processGroups },
  logger,
});
const worker = createTaskWorker({ redis, registry, config, logger, processGroups });

let stopping = false;
function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  void (async () => {
    logger.info({ signal }, 'stopping');
    workflowFiles.close();
    await worker.stop();
    await redis.quit().catch(() => {});
    process.exit(0);
  })();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
// Under the supervisor: leave when it is gone, even if it was SIGKILLed and could not stop us.
watchParent(process, { parentPid: parentPidFromEnv(process.env), stop });

try {
  await worker.start();
} catch (err) {
  logger.fatal({ err }, 'worker failed to start');
  process.exit(1);
}
