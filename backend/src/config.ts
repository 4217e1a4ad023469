import path from 'node:path';
import { MEMORY_MAX_TASKS, STORE_MODES, type StoreInfo } from '@taskdock/shared/contract';
import { dataPaths } from '@taskdock/shared/node/data-paths';
import type { Env } from '@taskdock/shared/node/env';
import {
  REDIS_FORM_VARIABLES,
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
import { loadServing, type Serving } from './serving.ts';

export interface Config {
  /** Redis data, logs, runtime.json and the persisted token live here. */
  readonly dataDir: string;
  /** Where tasks live and why (TASKDOCK_STORE; the supervisor passes its reason on). */
  readonly store: StoreInfo;
  /** How to reach Redis (TASKDOCK_REDIS_URL, _SENTINELS or _CLUSTER); undefined in memory mode. */
  readonly redis: RedisConnectionSpec | undefined;
  /** TASKDOCK_REDIS_MIN_REPLICAS: replicas a create waits for (WAIT) before it answers 201. */
  readonly redisMinReplicas: number;
  /** TASKDOCK_REDIS_MIN_REPLICAS_WAIT_MS: how long that WAIT lasts at most. */
  readonly redisMinReplicasWaitMs: number;
  /** Memory mode: finished tasks kept at most (the oldest finished go first). */
  readonly memoryMaxTasks: number;
  readonly port: number;
  /** Undefined: the server reads or creates `<dataDir>/token`. */
  readonly token: string | undefined;
  /** Globs of workflow names this worker serves. */
  readonly workflows: readonly string[];
  /** Folders of workflow files (TASKDOCK_WORKFLOWS_PATH; default `<dataDir>/workflows`). */
  readonly workflowsPath: readonly string[];
  readonly concurrency: number;
  readonly maxPerOwner: number;
  readonly retentionDays: number;
  /** BullMQ lock duration: how long a dead worker's task stays "running" before it is re-queued. */
  readonly lockDurationMs: number;
  /** How long a stopping worker lets active tasks finish before it leaves them to stalled recovery. */
  readonly shutdownGraceMs: number;
  /** Per-workflow limits across all workers, e.g. `{ shell: 2 }`. */
  readonly globalConcurrency: Readonly<Record<string, number>>;
  readonly logLevel: string;
  /** Directory of the static UI build; the API runs without it. */
  readonly uiDir: string | undefined;
  /** Bytes of a task's stored result as JSON; a bigger one is stored truncated. */
  readonly maxResultBytes: number;
  /** Log lines kept per task (the newest). */
  readonly maxLogLines: number;
  /** Bytes of one log line; a longer output line is split into pieces of this size. */
  readonly maxLogLineBytes: number;
  /** Bytes of an `http` task's response body that are read; reading stops there. */
  readonly maxHttpBodyBytes: number;
  /** A remote worker's lease lasts this long from its last heartbeat (TASKDOCK_LEASE_MS). */
  readonly leaseMs: number;
  /** Lease expiries after which a task fails with STALLED (TASKDOCK_MAX_STALLS). */
  readonly maxStalls: number;
  /** Bind address, allowed host names, TLS (serving.ts). */
  readonly serving: Serving;
}

/** Reads and validates every TASKDOCK_* variable; reports all bad ones at once. */
export function loadConfig(env: Env): Config {
  const problems: string[] = [];

  const int = intSettings(env, problems);

  const connection = readRedisConnection(env);
  problems.push(...connection.problems);
  const redis = connection.spec;
  const store = storeChoice(env, redis, problems);
  if (env.TASKDOCK_REDIS_MIN_REPLICAS && env.TASKDOCK_REDIS_MIN_REPLICAS !== '0') {
    // WAIT answers for one node's connection; a Cluster spreads a create over several.
    if (redis?.form === 'cluster') {
      problems.push('TASKDOCK_REDIS_MIN_REPLICAS is not supported with TASKDOCK_REDIS_CLUSTER');
    } else if (store.mode === 'memory') {
      problems.push('TASKDOCK_REDIS_MIN_REPLICAS needs Redis (memory mode has no replicas)');
    }
  }
  if (!redis && store.mode === 'redis' && connection.problems.length === 0) {
    problems.push(
      'TASKDOCK_REDIS_URL is required with TASKDOCK_STORE=redis (redis://[user:password@]host:port), or TASKDOCK_REDIS_SENTINELS or TASKDOCK_REDIS_CLUSTER; the supervisor sets it',
    );
  }

  const workflows = (env.TASKDOCK_WORKFLOWS ?? '*')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const glob of workflows) {
    if (!/^[A-Za-z0-9_.*?-]+$/.test(glob)) {
      problems.push(
        `TASKDOCK_WORKFLOWS must be comma-separated names or globs (letters, digits, _ . - * ?), got "${glob}"`,
      );
    }
  }
  if (workflows.length === 0) problems.push('TASKDOCK_WORKFLOWS must name at least one workflow');

  const globalConcurrency: Record<string, number> = {};
  for (const pair of (env.TASKDOCK_GLOBAL_CONCURRENCY ?? '').split(',').filter((s) => s.trim())) {
    const match = /^\s*([A-Za-z0-9_.-]+)\s*=\s*(\d+)\s*$/.exec(pair);
    if (!match?.[1] || !match[2] || Number(match[2]) < 1) {
      problems.push(
        `TASKDOCK_GLOBAL_CONCURRENCY must look like "shell=2,http=10" (limits ≥ 1), got "${pair}"`,
      );
    } else {
      globalConcurrency[match[1]] = Number(match[2]);
    }
  }

  const token = readTokenSetting(env, problems);
  const logLevel = readLogLevel(env, problems);
  const dataDir = readDataDir(env, problems);

  // A path list, as PATH is (`:`; `;` on Windows).
  const workflowsPath = env.TASKDOCK_WORKFLOWS_PATH
    ? env.TASKDOCK_WORKFLOWS_PATH.split(path.delimiter).filter(Boolean)
    : [dataPaths(dataDir).workflows];
  for (const folder of env.TASKDOCK_WORKFLOWS_PATH ? workflowsPath : []) {
    if (!path.isAbsolute(folder)) {
      problems.push(`TASKDOCK_WORKFLOWS_PATH must list absolute paths, got "${folder}"`);
    }
  }

  const config: Config = {
    dataDir,
    workflowsPath,
    store,
    redis,
    redisMinReplicas: int('TASKDOCK_REDIS_MIN_REPLICAS', 0, 0, 16),
    redisMinReplicasWaitMs: int('TASKDOCK_REDIS_MIN_REPLICAS_WAIT_MS', 5000, 10, 60_000),
    memoryMaxTasks: int(
      'TASKDOCK_MEMORY_MAX_TASKS',
      MEMORY_MAX_TASKS.default,
      MEMORY_MAX_TASKS.min,
      MEMORY_MAX_TASKS.max,
    ),
    port: int('TASKDOCK_PORT', 0, 0, 65535),
    token,
    workflows,
    concurrency: int('TASKDOCK_CONCURRENCY', 4, 1, 1000),
    maxPerOwner: int('TASKDOCK_MAX_PER_OWNER', 3, 1, 100_000),
    retentionDays: int('TASKDOCK_RETENTION_DAYS', 7, 1, 3650),
    lockDurationMs: int('TASKDOCK_LOCK_DURATION_MS', 30_000, 1000, 600_000),
    shutdownGraceMs: int('TASKDOCK_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    globalConcurrency,
    logLevel,
    uiDir: env.TASKDOCK_UI_DIR || undefined,
    maxResultBytes: int('TASKDOCK_MAX_RESULT_BYTES', 1024 * 1024, 4096, 64 * 1024 * 1024),
    maxLogLines: int('TASKDOCK_MAX_LOG_LINES', 5000, 1, 100_000),
    maxLogLineBytes: int('TASKDOCK_MAX_LOG_LINE_BYTES', 8192, 256, 1024 * 1024),
    maxHttpBodyBytes: int('TASKDOCK_MAX_HTTP_BODY_BYTES', 64 * 1024, 1024, 64 * 1024 * 1024),
    leaseMs: int('TASKDOCK_LEASE_MS', 30_000, 200, 3_600_000),
    maxStalls: int('TASKDOCK_MAX_STALLS', 3, 1, 100),
    serving: loadServing(env, problems),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/**
 * TASKDOCK_STORE: `redis` needs a Redis connection form; `memory` refuses one (a Redis given is
 * never ignored); `auto` (the default) is Redis when one is given, else memory. The
 * supervisor, which knows why it chose memory, says so in TASKDOCK_STORE_REASON.
 */
function storeChoice(
  env: Env,
  redis: RedisConnectionSpec | undefined,
  problems: string[],
): StoreInfo {
  const redisVariable = redis ? REDIS_FORM_VARIABLES[redis.form] : undefined;
  const raw = env.TASKDOCK_STORE || 'auto';
  const given = env.TASKDOCK_STORE_REASON?.trim().slice(0, 1000) || undefined;
  if (raw !== 'auto' && !(STORE_MODES as readonly string[]).includes(raw)) {
    problems.push(`TASKDOCK_STORE must be one of redis, memory, auto, got "${raw}"`);
  }
  if (raw === 'memory' && redisVariable) {
    problems.push(
      `TASKDOCK_STORE=memory and ${redisVariable} contradict each other: unset one of them`,
    );
  }
  if (raw === 'memory') return { mode: 'memory', reason: given ?? 'TASKDOCK_STORE=memory' };
  if (raw === 'redis' || redisVariable) {
    const why = raw === 'redis' ? 'TASKDOCK_STORE=redis' : `${redisVariable} is set`;
    return { mode: 'redis', reason: given ?? why };
  }
  return { mode: 'memory', reason: given ?? 'TASKDOCK_REDIS_URL is not set' };
}
