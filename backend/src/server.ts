// ENTRY: the API process. Config → Redis → engine → buildApp → listen; graceful close.
import { Redis } from 'ioredis';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createRedisEngine } from './engine/redis-engine.ts';
import { readInheritedSecrets } from './inherited-secrets.ts';
import { createLogger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { parentPidFromEnv, watchParent } from './parent-watch.ts';
import { redisClientOptions } from './redis-options.ts';
import { createIpcSupervision } from './supervision/ipc-supervision.ts';
import { ensureToken } from './token.ts';
import { builtInWorkflows, createWorkflowRegistry } from './workflows/registry.ts';

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
const redis = new Redis(config.redisUrl, redisClientOptions('taskdock-backend'));
redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
// The API validates params only; commands run in workers, so the shell env here is empty.
const registry = createWorkflowRegistry(builtInWorkflows({ baseEnv: {} }));
// Scrapes read the engine's stats; durations come from the tasks its relay sees finish.
const metrics = createMetrics({ stats: () => engine.stats(), ping: () => engine.ping() });
const engine = await createRedisEngine({
  redis,
  registry,
  retentionDays: config.retentionDays,
  logger,
  onFinished: (task) => metrics.observeFinished(task),
});
const token = config.token ?? (await ensureToken(config.dataDir));
// Spawned by the supervisor with an IPC channel: it serves /api/services and /api/logs.
const supervision = process.send ? createIpcSupervision(process) : undefined;
const app = await buildApp({
  token,
  engine,
  redis,
  metrics,
  logger,
  supervision,
  uiDir: config.uiDir,
});

let closing = false;
function close(signal: string) {
  if (closing) return;
  closing = true;
  void (async () => {
    logger.info({ signal }, 'stopping');
    await app.close();
    await engine.close();
    await redis.quit().catch(() => {});
    supervision?.close();
    process.exit(0);
  })();
}
process.on('SIGTERM', () => close('SIGTERM'));
process.on('SIGINT', () => close('SIGINT'));
watchParent(process, { parentPid: parentPidFromEnv(process.env), stop: close });

try {
  const address = await app.listen({ host: '127.0.0.1', port: config.port });
  logger.info({ url: address }, 'backend listening');
} catch (err) {
  logger.fatal({ err }, 'backend failed to listen');
  process.exit(1);
}
