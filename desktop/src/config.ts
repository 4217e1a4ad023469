import path from 'node:path';
import { MEMORY_MAX_TASKS } from '@taskdock/shared/contract';
import { defaultDataDir } from './paths.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Variables of the OS a child may need (PATH for shell tasks, SystemRoot for Windows sockets …). */
export const OS_ENV_KEYS = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'TEMP',
  'TMP',
  'SystemRoot',
  'SystemDrive',
  'ComSpec',
  'PATHEXT',
  'WINDIR',
  'USERPROFILE',
  'APPDATA',
  'LOCALAPPDATA',
] as const;

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
  // Remote workers and serving beyond loopback (docs/remote-workers.md); TLS is not passed on
  // yet: the supervisor probes its backend over plain http.
  'TASKDOCK_LEASE_MS',
  'TASKDOCK_MAX_STALLS',
  'TASKDOCK_HOST',
  'TASKDOCK_PUBLIC_URL',
  'TASKDOCK_ALLOWED_HOSTS',
  'TASKDOCK_ALLOW_PLAINTEXT',
] as const;

/** TASKDOCK_STORE: Redis, memory, or auto (Redis when a redis-server can run, else memory). */
export const STORE_SETTINGS = ['redis', 'memory', 'auto'] as const;
export type StoreSetting = (typeof STORE_SETTINGS)[number];

export interface DesktopConfig {
  readonly dataDir: string;
  /** An external Redis: no redis-server is started, and Redis is the only store. */
  readonly redisUrl: string | undefined;
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

export class DesktopConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'DesktopConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function pickEnv(env: Env, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    keys.flatMap((key) => {
      const value = env[key];
      return value === undefined ? [] : [[key, value]];
    }),
  );
}

/** The supervisor's settings from the environment; lists every bad variable at once. */
export function loadDesktopConfig(env: Env, defaults: { dataDir?: string } = {}): DesktopConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return Number(raw);
  };

  const dataDir = env.TASKDOCK_DATA_DIR || defaults.dataDir || defaultDataDir(env);
  if (!path.isAbsolute(dataDir)) {
    problems.push(`TASKDOCK_DATA_DIR must be an absolute path, got "${dataDir}"`);
  }

  const redisUrl = env.TASKDOCK_REDIS_URL || undefined;
  if (redisUrl !== undefined) {
    try {
      const url = new URL(redisUrl);
      if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error('protocol');
    } catch {
      // The value is not quoted: it may hold the password.
      const got = URL.canParse(redisUrl) ? `a ${new URL(redisUrl).protocol}// URL` : 'no URL';
      problems.push(`TASKDOCK_REDIS_URL must be a redis:// or rediss:// URL, got ${got}`);
    }
  }

  const store = (env.TASKDOCK_STORE || 'auto') as StoreSetting;
  if (!STORE_SETTINGS.includes(store)) {
    problems.push(`TASKDOCK_STORE must be one of ${STORE_SETTINGS.join(', ')}, got "${store}"`);
  } else if (store === 'memory' && redisUrl !== undefined) {
    problems.push(
      'TASKDOCK_STORE=memory and TASKDOCK_REDIS_URL contradict each other: unset one of them',
    );
  }
  // Checked here too, so a bad value stops the start before anything runs.
  const { default: maxTasks, min, max } = MEMORY_MAX_TASKS;
  int('TASKDOCK_MEMORY_MAX_TASKS', maxTasks, min, max);

  const token = env.TASKDOCK_TOKEN || undefined;
  if (token !== undefined && token.length < 16) {
    problems.push('TASKDOCK_TOKEN must be at least 16 characters');
  }

  const logLevel = env.TASKDOCK_LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`TASKDOCK_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }

  const autoUpdate = env.TASKDOCK_AUTO_UPDATE?.trim() || '1';
  if (autoUpdate !== '0' && autoUpdate !== '1') {
    problems.push(`TASKDOCK_AUTO_UPDATE must be 1 or 0, got "${autoUpdate}"`);
  }

  const config: DesktopConfig = {
    dataDir,
    redisUrl,
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
  if (problems.length > 0) throw new DesktopConfigError(problems);
  return Object.freeze(config);
}
