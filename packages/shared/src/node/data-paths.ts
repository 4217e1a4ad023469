import os from 'node:os';
import path from 'node:path';
import type { Env } from './env.ts';

/** The OS app-data directory, the same one Electron's `userData` resolves to for "Taskdock". */
export function defaultDataDir(env: Env, platform = process.platform, home = os.homedir()): string {
  if (platform === 'win32') {
    return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Taskdock');
  }
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Taskdock');
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'Taskdock');
}

/** What lives in the data directory (docs/desktop.md "Data directory"), named in this one place. */
export const dataPaths = (dataDir: string) => ({
  dataDir,
  logs: path.join(dataDir, 'logs'),
  redis: path.join(dataDir, 'redis'),
  runtime: path.join(dataDir, 'runtime.json'),
  token: path.join(dataDir, 'token'),
  lock: path.join(dataDir, 'supervisor.lock'),
  backendPort: path.join(dataDir, 'backend-port'),
  /** Memory mode's browser sessions (in Redis otherwise). */
  sessions: path.join(dataDir, 'sessions.json'),
  /** The default folder of workflow files (TASKDOCK_WORKFLOWS_PATH). */
  workflows: path.join(dataDir, 'workflows'),
  /** The desktop's remote workers setting (docs/remote-workers.md "The desktop setting"). */
  remoteServing: path.join(dataDir, 'remote-workers.json'),
});
