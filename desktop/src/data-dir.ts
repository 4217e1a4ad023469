import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { commandLine, isAlive } from '@taskdock/shared/node/processes';

/** A data directory that cannot be used; the message says what to do. */
export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

/** Creates the data dir (0700) and proves it is writable, before anything depends on it. */
export async function prepareDataDir(dataDir: string): Promise<void> {
  const probe = path.join(dataDir, `.write-test-${process.pid}`);
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFile(probe, 'ok', { mode: 0o600 });
    await rm(probe, { force: true });
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    throw new DataDirError(
      `The data directory ${dataDir} is not writable (${code ?? message}). Fix its ` +
        'permissions or choose another directory with TASKDOCK_DATA_DIR.',
    );
  }
}

/**
 * One supervisor per data directory: `supervisor.lock` holds its pid. A lock whose pid is dead
 * (a crashed or SIGKILLed run) is taken over; that run's redis-server is cleaned up afterwards.
 * Returns the release function.
 */
export async function lockDataDir(lockFile: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(lockFile, 'wx', 0o600);
      await handle.writeFile(
        JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }),
      );
      await handle.close();
      return async () => {
        const owner = await readLockPid(lockFile);
        if (owner === process.pid) await rm(lockFile, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readLockPid(lockFile);
    if (owner !== null && owner !== process.pid && isAlive(owner) && looksLikeTaskdock(owner)) {
      throw new DataDirError(
        `Taskdock is already running with the data directory ${path.dirname(lockFile)} ` +
          `(pid ${owner}). Quit it first, or choose another directory with TASKDOCK_DATA_DIR.`,
      );
    }
    await rm(lockFile, { force: true });
  }
  throw new DataDirError(`Could not take the lock ${lockFile}: another Taskdock keeps taking it`);
}

async function readLockPid(lockFile: string): Promise<number | null> {
  try {
    const { pid } = JSON.parse(await readFile(lockFile, 'utf8')) as { pid?: unknown };
    return typeof pid === 'number' ? pid : null;
  } catch {
    return null;
  }
}

/** A reused pid of an unrelated program does not hold the lock (unknown command: assume it does). */
function looksLikeTaskdock(pid: number): boolean {
  const command = commandLine(pid).toLowerCase();
  return command === '' || /node|electron|taskdock/.test(command);
}
