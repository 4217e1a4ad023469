import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  type CreatedWorkerToken,
  type CreateWorkerToken,
  WORKER_TOKEN_LIMITS,
  type WorkerToken,
} from '@taskdock/shared/contract';
import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import { ConflictError, NotFoundError } from '../engine/errors.ts';
import { WORKER_TOKENS_KEY, workerTokenHashKey } from '../tasks/keys.ts';
import type { WorkerTokenIdentity } from './lease-engine.ts';

/** Worker tokens carry this prefix, so a leaked one is recognisable (secret scanners). */
const TOKEN_PREFIX = 'tdw_';
/** `lastUsedAt` is written at most this often per token. */
const LAST_USED_EVERY_MS = 60_000;

interface StoredToken extends WorkerToken {
  readonly sha256: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Worker tokens in Redis, so every API host sees a revocation at once: a record per id and a
 * lookup by the token's sha256 (the token itself is never stored).
 */
export class WorkerTokens {
  readonly #redis: RedisConnection;
  readonly #lastUsedWrites = new Map<string, number>();

  constructor(redis: RedisConnection) {
    this.#redis = redis;
  }

  async create(input: CreateWorkerToken): Promise<CreatedWorkerToken> {
    if ((await this.#redis.hlen(WORKER_TOKENS_KEY)) >= WORKER_TOKEN_LIMITS.maxTokens) {
      throw new ConflictError(
        'LIMIT_REACHED',
        `At most ${WORKER_TOKEN_LIMITS.maxTokens} worker tokens; revoke one first`,
      );
    }
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const record: StoredToken = {
      id: randomUUID().replaceAll('-', ''),
      name: input.name,
      workflows: input.workflows ?? ['*'],
      createdAt: new Date().toISOString(),
      sha256: sha256(token),
    };
    await this.#redis
      .multi()
      .hset(WORKER_TOKENS_KEY, record.id, JSON.stringify(record))
      .set(workerTokenHashKey(record.sha256), record.id)
      .exec();
    return { ...publicView(record), token };
  }

  async list(): Promise<WorkerToken[]> {
    const all = Object.values(await this.#redis.hgetall(WORKER_TOKENS_KEY));
    return all
      .map((text) => publicView(JSON.parse(text) as StoredToken))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async revoke(id: string): Promise<void> {
    const text = await this.#redis.hget(WORKER_TOKENS_KEY, id);
    if (!text) throw new NotFoundError(`No worker token with id "${id}"`);
    const record = JSON.parse(text) as StoredToken;
    await this.#redis
      .multi()
      .del(workerTokenHashKey(record.sha256))
      .hdel(WORKER_TOKENS_KEY, id)
      .exec();
  }

  /** One round trip for a known token; a revoked one has no lookup key left. */
  async verify(token: string): Promise<WorkerTokenIdentity | null> {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const id = await this.#redis.get(workerTokenHashKey(sha256(token)));
    if (!id) return null;
    const text = await this.#redis.hget(WORKER_TOKENS_KEY, id);
    if (!text) return null;
    const record = JSON.parse(text) as StoredToken;
    this.#touch(record);
    return { id: record.id, name: record.name, workflows: record.workflows };
  }

  #touch(record: StoredToken): void {
    const now = Date.now();
    if (now - (this.#lastUsedWrites.get(record.id) ?? 0) < LAST_USED_EVERY_MS) return;
    this.#lastUsedWrites.set(record.id, now);
    const updated = { ...record, lastUsedAt: new Date(now).toISOString() };
    // Only while the token still exists: a revoke in between must not bring it back.
    this.#redis
      .eval(
        "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end return 0",
        1,
        WORKER_TOKENS_KEY,
        record.id,
        JSON.stringify(updated),
      )
      .catch(() => {});
  }
}

function publicView({ sha256: _hash, ...token }: StoredToken): WorkerToken {
  return token;
}
