import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { isAlive, killTree } from '@taskdock/shared/node/processes';

export async function tempDir(prefix = 'taskdock-desktop-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Kills each still-running pid (and its tree): the test's own processes, by pid. */
export async function killPids(pids: Iterable<number | null | undefined>): Promise<void> {
  for (const pid of pids) {
    if (pid && pid > 1 && isAlive(pid)) await killTree(pid, 'SIGKILL');
  }
}

/** The pids and temp data dirs a test file makes, killed and removed after its tests. */
export function trackResources() {
  const pids = new Set<number | null | undefined>();
  const dirs: string[] = [];
  after(async () => {
    await killPids(pids);
    for (const dir of dirs) await removeDir(dir);
  });
  return {
    pids,
    async dataDir(): Promise<string> {
      const dir = await tempDir();
      dirs.push(dir);
      return dir;
    },
  };
}
