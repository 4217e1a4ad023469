import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { Value } from '@sinclair/typebox/value';
import {
  REMOTE_SERVING_DEFAULT,
  RemoteServingSetting,
  type RemoteServingStatus,
} from '../contract/remote-serving.ts';
import { dataPaths } from './data-paths.ts';
import type { Env } from './env.ts';

// The "Remote workers" setting (docs/remote-workers.md): the backend's route writes it, the
// supervisor turns it into the backend's serving variables each time it starts the backend.

/** The serving variables the setting stands for (backend/src/serving.ts reads them). */
export const SERVING_ENV_KEYS = [
  'TASKDOCK_HOST',
  'TASKDOCK_PUBLIC_URL',
  'TASKDOCK_ALLOWED_HOSTS',
  'TASKDOCK_ALLOW_PLAINTEXT',
] as const;

/** Which one decided the backend's bind: passed to the backend so its status can say. */
export const SERVING_SOURCE_KEY = 'TASKDOCK_SERVING_SOURCE';
export type ServingSource = RemoteServingStatus['source'];

/** The saved setting; the default (off) when there is none or it is unreadable. */
export function readRemoteServing(dataDir: string): RemoteServingSetting {
  try {
    const saved: unknown = JSON.parse(readFileSync(dataPaths(dataDir).remoteServing, 'utf8'));
    return Value.Check(RemoteServingSetting, saved) ? saved : REMOTE_SERVING_DEFAULT;
  } catch {
    return REMOTE_SERVING_DEFAULT;
  }
}

/** Saves it whole (written aside, then renamed in place), readable by the user only. */
export async function writeRemoteServing(
  dataDir: string,
  setting: RemoteServingSetting,
): Promise<void> {
  const file = dataPaths(dataDir).remoteServing;
  const aside = `${file}.${process.pid}.tmp`;
  await writeFile(aside, `${JSON.stringify(setting, null, 2)}\n`, { mode: 0o600 });
  await rename(aside, file);
}

/**
 * The backend's serving variables: the environment's when it sets TASKDOCK_HOST (env wins, in
 * the desktop app and headless alike), else the setting's, with SERVING_SOURCE_KEY naming which.
 * `hostName` is this machine's name, accepted by the Host check when the setting opens the API.
 */
export function servingEnv(
  env: Env,
  setting: RemoteServingSetting,
  hostName: string,
): Record<string, string> {
  const given: Record<string, string> = {};
  for (const key of SERVING_ENV_KEYS) {
    const value = env[key];
    if (value !== undefined && value !== '') given[key] = value;
  }
  if (given.TASKDOCK_HOST !== undefined) return { ...given, [SERVING_SOURCE_KEY]: 'env' };
  if (!setting.enabled) return { ...given, [SERVING_SOURCE_KEY]: 'default' };
  return {
    ...given,
    TASKDOCK_HOST: '0.0.0.0',
    TASKDOCK_ALLOWED_HOSTS: [given.TASKDOCK_ALLOWED_HOSTS, hostName.toLowerCase()]
      .filter(Boolean)
      .join(','),
    ...(setting.publicUrl ? { TASKDOCK_PUBLIC_URL: setting.publicUrl } : {}),
    ...(setting.allowPlaintext ? { TASKDOCK_ALLOW_PLAINTEXT: '1' } : {}),
    [SERVING_SOURCE_KEY]: 'setting',
  };
}
