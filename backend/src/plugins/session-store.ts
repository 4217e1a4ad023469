import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import { PREFIX } from '../tasks/keys.ts';

/**
 * Where browser sign-ins are kept: used link nonces and live sessions (by the hash of their
 * id). Redis in Redis mode; a small file in the data dir in memory mode, so a restart neither
 * signs a tab out nor makes a used link good again.
 */
export interface SessionStore {
  /** True for exactly one caller per nonce, false ever after. */
  useNonce(nonce: string): Promise<boolean>;
  addSession(hash: string, ttlMs: number): Promise<void>;
  hasSession(hash: string): Promise<boolean>;
  removeSession(hash: string): Promise<void>;
}

/**
 * Nonces of sign-in links already used. A link carries no expiry, so they are kept (a few bytes
 * per sign-in); a new token (new install or TASKDOCK_TOKEN) makes every old link useless anyway.
 */
const usedNoncesKey = () => `${PREFIX}:sign-in:used`;
const sessionKey = (hash: string) => `${PREFIX}:session:${hash}`;

export function createRedisSessionStore(redis: RedisConnection): SessionStore {
  return {
    // SADD answers 1 to exactly one caller: two tabs racing with one link get one session.
    useNonce: async (nonce) => (await redis.sadd(usedNoncesKey(), nonce)) === 1,
    async addSession(hash, ttlMs) {
      await redis.set(sessionKey(hash), String(Date.now()), 'PX', ttlMs);
    },
    hasSession: async (hash) => (await redis.exists(sessionKey(hash))) === 1,
    async removeSession(hash) {
      await redis.del(sessionKey(hash));
    },
  };
}

/** Bounds of the file store: the oldest entries go first (a sign-in is rare; these are generous). */
export const FILE_SESSION_LIMITS = { nonces: 10_000, sessions: 1000 } as const;

interface SessionFile {
  nonces: string[];
  /** [hash, expires at (epoch ms)] */
  sessions: [string, number][];
}

/**
 * Sessions and used nonces in memory, written through to `file` (0600, atomically) at every
 * change. Node runs one callback at a time, so the check-and-add of a nonce is atomic here.
 */
export async function createFileSessionStore(
  file: string,
  limits: { nonces: number; sessions: number } = FILE_SESSION_LIMITS,
): Promise<SessionStore> {
  const saved = await readSessionFile(file);
  const nonces = new Set(saved.nonces);
  const sessions = new Map(saved.sessions.filter(([, expires]) => expires > Date.now()));
  let writes = Promise.resolve();

  const save = () => {
    while (nonces.size > limits.nonces) nonces.delete(nonces.values().next().value as string);
    while (sessions.size > limits.sessions) {
      sessions.delete(sessions.keys().next().value as string);
    }
    const body: SessionFile = { nonces: [...nonces], sessions: [...sessions] };
    const temp = `${file}.${process.pid}.tmp`;
    writes = writes
      .catch(() => {})
      .then(async () => {
        await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
        await writeFile(temp, JSON.stringify(body), { mode: 0o600 });
        await rename(temp, file);
      });
    return writes;
  };

  return {
    async useNonce(nonce) {
      if (nonces.has(nonce)) return false;
      nonces.add(nonce);
      await save();
      return true;
    },
    async addSession(hash, ttlMs) {
      sessions.set(hash, Date.now() + ttlMs);
      await save();
    },
    async hasSession(hash) {
      const expires = sessions.get(hash);
      if (expires === undefined) return false;
      if (expires > Date.now()) return true;
      sessions.delete(hash);
      return false;
    },
    async removeSession(hash) {
      if (sessions.delete(hash)) await save();
    },
  };
}

async function readSessionFile(file: string): Promise<SessionFile> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<SessionFile>;
    return {
      nonces: Array.isArray(parsed.nonces)
        ? parsed.nonces.filter((n) => typeof n === 'string')
        : [],
      sessions: Array.isArray(parsed.sessions)
        ? parsed.sessions.filter(
            (s): s is [string, number] =>
              Array.isArray(s) && typeof s[0] === 'string' && typeof s[1] === 'number',
          )
        : [],
    };
  } catch {
    // None yet, or unreadable: start empty (open tabs need a fresh sign-in link).
    return { nonces: [], sessions: [] };
  }
}
