import { Redis, ReplyError } from 'ioredis';

/**
 * The supervisor's few Redis commands (PING, SHUTDOWN) on an ioredis client made to fail fast:
 * one connection per call, no reconnects, no offline queue, a timeout on everything. A health
 * probe must answer now, not queue and retry the way a long-lived client does.
 */
export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  readonly password?: string | undefined;
}

/** An error reply from Redis (WRONGPASS, NOAUTH, LOADING, …), as opposed to a network failure. */
export { ReplyError };

async function withClient<T>(
  target: RedisTarget,
  timeoutMs: number,
  use: (client: Redis) => Promise<T>,
): Promise<T> {
  const client = new Redis({
    host: target.host,
    port: target.port,
    ...(target.password ? { password: target.password } : {}),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    enableReadyCheck: false,
  });
  // ioredis 6 authenticates in its RESP3 handshake (HELLO … AUTH): a refused password is then
  // an 'error' event and the command only sees "Connection is closed". Report the server's word.
  let refused: Error | undefined;
  client.on('error', (err) => {
    if (err instanceof ReplyError) refused ??= err;
  });
  try {
    await client.connect();
    return await use(client);
  } catch (err) {
    throw err instanceof ReplyError ? err : (refused ?? err);
  } finally {
    client.disconnect();
  }
}

/** Runs one command after AUTH; rejects with the server's error (e.g. NOAUTH, LOADING). */
export function redisCommand(
  target: RedisTarget,
  args: readonly string[],
  timeoutMs = 1000,
): Promise<unknown> {
  const [command = 'PING', ...rest] = args;
  return withClient(target, timeoutMs, (client) => client.call(command, ...rest));
}

/** Authenticated PING: resolves only on PONG. */
export async function redisPing(target: RedisTarget, timeoutMs = 1000): Promise<void> {
  const reply = await redisCommand(target, ['PING'], timeoutMs);
  if (reply !== 'PONG') throw new Error(`PING answered ${JSON.stringify(reply)}`);
}

/**
 * `SHUTDOWN SAVE`: Redis writes its RDB snapshot, fsyncs the AOF and closes the connection
 * without a reply. Rejects when Redis refuses (e.g. the save failed) or answers instead.
 */
export async function redisShutdown(target: RedisTarget, timeoutMs = 10_000): Promise<void> {
  await withClient(target, timeoutMs, async (client) => {
    try {
      await client.call('SHUTDOWN', 'SAVE');
    } catch (err) {
      if (err instanceof ReplyError) throw err;
      return; // The connection closed under the command: that is the shutdown.
    }
    throw new Error('Redis answered SHUTDOWN instead of shutting down');
  });
}
