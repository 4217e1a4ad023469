import path from 'node:path';
import { defaultDataDir } from './data-paths.ts';
import type { Env } from './env.ts';
import { MIN_TOKEN_LENGTH } from './token-file.ts';

/** Every bad setting of one process at once (backend, worker and supervisor alike). */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

// How backend and supervisor read the TASKDOCK_* variables they both take: each reader adds a
// line to `problems` for a bad value (so a config lists every bad variable at once) and
// returns a usable fallback.

/** A reader of whole-number variables: unset or empty is the fallback; out of range is a problem. */
export function intSettings(env: Env, problems: string[]) {
  return (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** TASKDOCK_LOG_LEVEL, default `info`. */
export function readLogLevel(env: Env, problems: string[]): string {
  const level = env.TASKDOCK_LOG_LEVEL || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    problems.push(`TASKDOCK_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  }
  return level;
}

/** TASKDOCK_TOKEN; undefined: the data dir's token file (token-file.ts) is used. */
export function readTokenSetting(env: Env, problems: string[]): string | undefined {
  const token = env.TASKDOCK_TOKEN || undefined;
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    problems.push(`TASKDOCK_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters`);
  }
  return token;
}

/** TASKDOCK_DATA_DIR, else `fallback`, else the OS default; it must be absolute. */
export function readDataDir(env: Env, problems: string[], fallback?: string): string {
  const dataDir = env.TASKDOCK_DATA_DIR || fallback || defaultDataDir(env);
  if (!path.isAbsolute(dataDir)) {
    problems.push(`TASKDOCK_DATA_DIR must be an absolute path, got "${dataDir}"`);
  }
  return dataDir;
}
