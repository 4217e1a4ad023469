// ENTRY: the API process. Config → store (Redis, or memory: no Redis client at all) → engine →
// buildApp → listen; graceful close.
import os from 'node:os';
import { DURABLE_MODE_HINT } from '@taskdock/shared/contract';
import { dataPaths } from '@taskdock/shared/node/data-paths';
import { OS_ENV_KEYS, pickEnv } from '@taskdock/shared/node/env';
import { createRedisConnection, describeRedis } from '@taskdock/shared/node/redis-connection';
import { ConfigError } from '@taskdock/shared/node/settings';
import { ensureToken } from '@taskdock/shared/node/token-file';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createMemoryEngine } from './engine/memory/memory-engine.ts';
import { createRedisEngine } from './engine/redis-engine.ts';
import type { TaskEngine } from './engine/task-engine.ts';
import { readInheritedSecrets } from './inherited-secrets.ts';
import { createLogger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { parentPidFromEnv, watchParent } from './parent-watch.ts';
import { createSessionManager } from './plugins/session.ts';
import { createFileSessionStore, createRedisSessionStore } from './plugins/session-store.ts';
import { probeRedis, RedisEvictionPolicyError } from './redis-probe.ts';
import { createRedisLeaseEngine } from './remote/redis-lease-engine.ts';
import { createRemoteServing } from './remote/remote-serving.ts';
import { RemoteWorkflows } from './remote/remote-workflows.ts';
import { readTls } from './serving.ts';
import { createIpcSupervision } from './supervision/ipc-supervision.ts';
import { keyPrefixFor, useKeyPrefix } from './tasks/keys.ts';
import { builtInWorkflows, createWorkflowRegistry } from './workflows/registry.ts';
import { watchWorkflowFolders } from './workflows/workflow-watcher.ts';

let config: ReturnType<typeof loadConfig>;
try {
  // The supervisor hands the Redis password and token over on a pipe, not in the environment.
  config = loadConfig({ ...process.env, ...(await readInheritedSecrets(process.env)) });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(78);
}

const logger = createLogger('backend', config.logLevel);
const { store } = config;
const memory = store.mode === 'memory';
if (memory) {
  logger.warn(
    { storage_mode: 'memory', reason: store.reason },
    `storage_mode=memory reason="${store.reason}": tasks live in this process's memory and ` +
      `vanish when it stops; for durable tasks ${DURABLE_MODE_HINT}`,
  );
} else {
  logger.info({ storage_mode: 'redis', reason: store.reason }, 'storage_mode=redis');
}
// On a Cluster every key goes under one hash tag (docs/engine.md "Keys on a Cluster").
if (config.redis) useKeyPrefix(keyPrefixFor(config.redis.form));
const redis = config.redis
  ? createRedisConnection(config.redis, { connectionName: 'taskdock-backend' })
  : undefined;
redis?.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
const redisServer = await probeRedisOrExit();
// In Redis mode the API validates params only and commands run in workers (an empty shell env
// here); in memory mode this process runs the tasks, with the shell env a worker would give.
const shellEnv = memory ? pickEnv(process.env, OS_ENV_KEYS) : {};
const registry = createWorkflowRegistry(builtInWorkflows({ baseEnv: shellEnv }));
// Workflow files, watched: their params are checked here, and their errors listed.
const workflowFiles = await watchWorkflowFolders({
  folders: config.workflowsPath,
  registry,
  load: { baseEnv: shellEnv, processGroups: undefined },
  logger,
});
// Scrapes read the engine's stats; durations come from the tasks its relay sees finish.
const metrics = createMetrics({ stats: () => engine.stats(), ping: () => engine.ping() }, store);
const onFinished = (task: Parameters<typeof metrics.observeFinished>[0]) =>
  metrics.observeFinished(task);
// Remote workflows (Redis only): declared over HTTP, their tasks leased by remote workers.
const remote = redis ? new RemoteWorkflows(redis, logger) : undefined;
await remote?.start();
const engine: TaskEngine = redis
  ? await createRedisEngine({
      redis,
      registry: remote ? remote.withLocal(registry) : registry,
      ...(remote ? { laterQueues: remote } : {}),
      retentionDays: config.retentionDays,
      logger,
      onFinished,
      minReplicas: { count: config.redisMinReplicas, timeoutMs: config.redisMinReplicasWaitMs },
    })
  : await createMemoryEngine({
      registry,
      retentionDays: config.retentionDays,
      logger,
      concurrency: config.concurrency,
      maxTasks: config.memoryMaxTasks,
      onFinished,
      shellEnv,
      // Per-owner and per-workflow limits and output caps, as a worker reads them.
      limits: config,
    });
const leases =
  redis && remote
    ? await createRedisLeaseEngine({
        redis,
        engine,
        local: registry,
        remote,
        config,
        logger,
        observer: metrics.leases,
      })
    : undefined;
const token = config.token ?? (await ensureToken(config.dataDir));
const sessions = createSessionManager({
  // Memory mode: a small file, so a restart keeps tabs signed in and used links used.
  store: redis
    ? createRedisSessionStore(redis)
    : await createFileSessionStore(dataPaths(config.dataDir).sessions),
  token,
});
// Spawned by the supervisor with an IPC channel: it serves /api/services and /api/logs.
const supervision = process.send ? createIpcSupervision(process) : undefined;
const app = await buildApp({
  token,
  engine,
  sessions,
  store,
  ...(redisServer ? { redisServer } : {}),
  metrics,
  logger,
  supervision,
  uiDir: config.uiDir,
  ...(leases ? { leases } : {}),
  allowedHosts: config.serving.allowedHosts,
  ...(config.serving.tls ? { https: await readTls(config.serving.tls) } : {}),
  remoteServing: createRemoteServing({
    serving: config.serving,
    dataDir: config.dataDir,
    port: config.port,
    hostName: os.hostname(),
    available: leases !== undefined,
    restartBackend: supervision?.restartBackend,
  }),
});

/** The start probe (redis-probe.ts): an evicting Redis stops the start, with the fix. */
async function probeRedisOrExit() {
  if (!redis || !config.redis) return undefined;
  try {
    const found = await probeRedis(redis, config.redis);
    logger.info(
      { redis: { ...found, warnings: undefined } },
      `redis: ${describeRedis(config.redis)}`,
    );
    for (const warning of found.warnings) logger.warn({ redis: found.connection }, warning);
    return found;
  } catch (err) {
    if (!(err instanceof RedisEvictionPolicyError)) throw err;
    logger.fatal({ redis: describeRedis(config.redis) }, err.message);
    process.exit(78);
  }
}

let closing = false;
function close(signal: string) {
  if (closing) return;
  closing = true;
  void (async () => {
    logger.info({ signal }, 'stopping');
    workflowFiles.close();
    await app.close();
    await leases?.close();
    await remote?.stop();
    await engine.close();
    await redis?.quit().catch(() => {});
    supervision?.close();
    process.exit(0);
  })();
}
process.on('SIGTERM', () => close('SIGTERM'));
process.on('SIGINT', () => close('SIGINT'));
watchParent(process, { parentPid: parentPidFromEnv(process.env), stop: close });

try {
  const address = await app.listen({ host: config.serving.host, port: config.port });
  logger.info({ url: address, publicUrl: config.serving.publicUrl }, 'backend listening');
  if (config.serving.plaintextRemote) {
    logger.warn(
      { host: config.serving.host },
      `WARNING: the API is open to other machines WITHOUT TLS (TASKDOCK_ALLOW_PLAINTEXT=1): tokens and task data cross the network in clear; set TASKDOCK_TLS_CERT and TASKDOCK_TLS_KEY`,
    );
  }
} catch (err) {
  logger.fatal({ err }, 'backend failed to listen');
  process.exit(1);
}
