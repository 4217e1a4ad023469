import type { RedisOptions } from 'ioredis';

/**
 * Options of the backend's and the worker's long-lived Redis clients. Reconnect as ioredis 5 did
 * (50 ms more per try, at most 2 s): ioredis 6 waits up to ~5 s, too long when the supervisor
 * restarts a local redis-server in about a second. RESP2 is asked for explicitly: every reply
 * shape Taskdock and BullMQ read is the same either way, and RESP3's handshake reports a refused
 * password only as a closed connection.
 */
export function redisClientOptions(connectionName: string): RedisOptions {
  return {
    connectionName,
    protocol: 2,
    retryStrategy: (times) => Math.min(times * 50, 2000),
  };
}
