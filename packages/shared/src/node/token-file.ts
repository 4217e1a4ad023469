import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dataPaths } from './data-paths.ts';

/** Shorter tokens are refused (TASKDOCK_TOKEN) or replaced (the token file). */
export const MIN_TOKEN_LENGTH = 16;

/** `<dataDir>/token` as written, or undefined when it is missing, unreadable or too short. */
export async function readTokenFile(dataDir: string): Promise<string | undefined> {
  try {
    const token = (await readFile(dataPaths(dataDir).token, 'utf8')).trim();
    return token.length >= MIN_TOKEN_LENGTH ? token : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The API token: `<dataDir>/token`, created with a random value the first time (the data dir
 * 0700 if it has to be made, the file 0600). The backend on its own and the supervisor read
 * the same file. The file appears whole (written aside, then linked in place), and never
 * replaces another's: of two processes starting at once, the later reads the earlier's token.
 */
export async function ensureToken(dataDir: string): Promise<string> {
  const file = dataPaths(dataDir).token;
  let present = true;
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= MIN_TOKEN_LENGTH) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    present = false;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, `${token}\n`, { mode: 0o600 });
  try {
    // A file too short to be a token is replaced; a missing one is created, never overwritten.
    if (present) await rename(temp, file);
    else await link(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return (await readTokenFile(dataDir)) ?? ensureToken(dataDir);
  } finally {
    await rm(temp, { force: true });
  }
  return token;
}
