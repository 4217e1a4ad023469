import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The API token: `<dataDir>/token`, created (mode 0600) with a random value the first time.
 * The same file and format the backend reads when it runs on its own.
 */
export async function ensureToken(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'token');
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 16) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(32).toString('base64url');
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}
