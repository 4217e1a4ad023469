import { MEMORY_MAX_TASKS, WORKER_PROCESSES } from '@taskdock/shared/contract';
import { type Env, OS_ENV_KEYS, pickEnv } from '@taskdock/shared/node/env';
import {
  REDIS_CONNECTION_KEYS,
  REDIS_FORM_VARIABLES,
  REDIS_SECRET_KEYS,
  type RedisConnectionSpec,
  readRedisConnection,
} from '@taskdock/shared/node/redis-connection';
import {
  ConfigError,
  intSettings,
  readDataDir,
  readLogLevel,
  readTokenSetting,
} from '@taskdock/shared/node/settings';

/** Settings the worker and backend validate themselves (README "Configuration"); the supervisor passes them on. */
export const SERVICE_SETTING_KEYS = [
  'TASKDOCK_WORKFLOWS',
  'TASKDOCK_WORKFLOWS_PATH',
  'TASKDOCK_CONCURRENCY',
  'TASKDOCK_MAX_PER_OWNER',
  'TASKDOCK_RETENTION_DAYS',
  'TASKDOCK_GLOBAL_CONCURRENCY',
  'TASKDOCK_LOCK_DURATION_MS',
  'TASKDOCK_SHUTDOWN_GRACE_MS',
  'TASKDOCK_UI_DIR',
  'TASKDOCK_MEMORY_MAX_TASKS',
  // Remote workers and serving beyond loopback (docs/remote-workers.md). With TLS files the
  // supervisor's health gate and the sign-in link use https. TASKDOCK_HOST, when set, wins over
  // the desktop's remote workers setting.
  'TASKDOCK_LEASE_MS',
  'TASKDOCK_MAX_STALLS',
  'TASKDOCK_HOST',
  'TASKDOCK_PUBLIC_URL',
  'TASKDOCK_ALLOWED_HOSTS',
  'TASKDOCK_ALLOW_PLAINTEXT',
  'TASKDOCK_TLS_CERT',
  'TASKDOCK_TLS_KEY',
  // Replication of creates (docs/scale-out.md "Failover and what each guarantee is").
  'TASKDOCK_REDIS_MIN_REPLICAS',
  'TASKDOCK_REDIS_MIN_REPLICAS_WAIT_MS',
] as const;

/** TASKDOCK_STORE: Redis, memory, or auto (Redis when a redis-server can run, else memory). */
export const STORE_SETTINGS = ['redis', 'memory', 'auto'] as const;
export type StoreSetting = (typeof STORE_SETTINGS)[number];

/**
 * TASKDOCK_ROLE: what this host runs (docs/scale-out.md "Roles"): everything, only worker
 * processes, or only the API. `worker` and `api` share an external Redis with other hosts.
 */
export const ROLES = ['all', 'worker', 'api'] as const;
export type Role = (typeof ROLES)[number];

export interface DesktopConfig {
  readonly dataDir: string;
  readonly role: Role;
  /** TASKDOCK_WORKER_PROCESSES: worker processes run here (roles `all` and `worker`). */
  readonly workerProcesses: number;
  /** An external Redis (any connection form): no redis-server is started, Redis is the only store. */
  readonly redis: RedisConnectionSpec | undefined;
  /** The connection form's variables without a secret: passed to children in their env. */
  readonly redisEnv: Readonly<Record<string, string>>;
  /** The ones that may hold a password: passed to children on the secrets pipe only. */
  readonly redisSecrets: Readonly<Record<string, string>>;
  /** Where tasks live; `auto` falls back to memory when no redis-server can be found or started. */
  readonly store: StoreSetting;
  /** TASKDOCK_REDIS_SERVER: a redis-server binary to use when none is bundled. */
  readonly redisServer: string | undefined;
  /** Backend port; 0 picks a free one (kept across backend restarts). */
  readonly port: number;
  /** Undefined: read or create `<dataDir>/token`. */
  readonly token: string | undefined;
  readonly logLevel: string;
  /** How long the worker may finish active tasks when stopping. */
  readonly shutdownGraceMs: number;
  /** Passed to the worker and backend as they are. */
  readonly serviceSettings: Readonly<Record<string, string>>;
  /** The OS variables children inherit: a chosen few, never all of `process.env`. */
  readonly osEnv: Readonly<Record<string, string>>;
  /** TASKDOCK_AUTO_UPDATE=0 turns the packaged app's update checks off (docs/desktop.md). */
  readonly autoUpdate: boolean;
}

/** The supervisor's settings from the environment; lists every bad variable at once. */
export function loadDesktopConfig(env: Env, defaults: { dataDir?: string } = {}): DesktopConfig {
  const problems: string[] = [];
  const int = intSettings(env, problems);
  const dataDir = readDataDir(env, problems, defaults.dataDir);

  const connection = readRedisConnection(env);
  problems.push(...connection.problems);
  const redis = connection.spec;
  const redisVariable = redis ? REDIS_FORM_VARIABLES[redis.form] : undefined;
  const redisSettings = pickEnv(env, REDIS_CONNECTION_KEYS);
  const isSecret = (key: string) => (REDIS_SECRET_KEYS as readonly string[]).includes(key);

  const store = (env.TASKDOCK_STORE || 'auto') as StoreSetting;
  if (!STORE_SETTINGS.includes(store)) {
    problems.push(`TASKDOCK_STORE must be one of ${STORE_SETTINGS.join(', ')}, got "${store}"`);
  } else if (store === 'memory' && redisVariable !== undefined) {
    problems.push(
      `TASKDOCK_STORE=memory and ${redisVariable} contradict each other: unset one of them`,
    );
  }
  const role = (env.TASKDOCK_ROLE?.trim() || 'all') as Role;
  if (!ROLES.includes(role)) {
    problems.push(`TASKDOCK_ROLE must be one of ${ROLES.join(', ')}, got "${role}"`);
  } else if (role !== 'all' && redis === undefined && connection.problems.length === 0) {
    problems.push(
      `TASKDOCK_ROLE=${role} needs the Redis every host shares: set TASKDOCK_REDIS_URL ` +
        '(or TASKDOCK_REDIS_SENTINELS or TASKDOCK_REDIS_CLUSTER) ' +
        '(memory mode and a redis-server of its own serve one host only)',
    );
  }
  const workerProcesses = int(
    'TASKDOCK_WORKER_PROCESSES',
    WORKER_PROCESSES.default,
    WORKER_PROCESSES.min,
    WORKER_PROCESSES.max,
  );
  if (role === 'api' && env.TASKDOCK_WORKER_PROCESSES) {
    problems.push(
      'TASKDOCK_WORKER_PROCESSES and TASKDOCK_ROLE=api contradict each other: an api host runs no workers',
    );
  }
  // Checked here too, so a bad value stops the start before anything runs.
  const { default: maxTasks, min, max } = MEMORY_MAX_TASKS;
  int('TASKDOCK_MEMORY_MAX_TASKS', maxTasks, min, max);

  const token = readTokenSetting(env, problems);
  const logLevel = readLogLevel(env, problems);

  const autoUpdate = env.TASKDOCK_AUTO_UPDATE?.trim() || '1';
  if (autoUpdate !== '0' && autoUpdate !== '1') {
    problems.push(`TASKDOCK_AUTO_UPDATE must be 1 or 0, got "${autoUpdate}"`);
  }

  const config: DesktopConfig = {
    dataDir,
    role,
    workerProcesses,
    redis,
    redisEnv: Object.fromEntries(Object.entries(redisSettings).filter(([k]) => !isSecret(k))),
    redisSecrets: Object.fromEntries(Object.entries(redisSettings).filter(([k]) => isSecret(k))),
    store,
    redisServer: env.TASKDOCK_REDIS_SERVER || undefined,
    port: int('TASKDOCK_PORT', 0, 0, 65535),
    token,
    logLevel,
    shutdownGraceMs: int('TASKDOCK_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    serviceSettings: pickEnv(env, SERVICE_SETTING_KEYS),
    osEnv: pickEnv(env, OS_ENV_KEYS),
    autoUpdate: autoUpdate !== '0',
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
