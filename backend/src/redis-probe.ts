import type { RedisServerInfo } from '@taskdock/shared/contract';
import {
  describeRedis,
  type RedisConnection,
  type RedisConnectionSpec,
} from '@taskdock/shared/node/redis-connection';
import { Cluster, type Redis, ReplyError } from 'ioredis';

/**
 * Redis would evict keys under memory pressure: queues, task records and events could vanish
 * without an error. Taskdock refuses to start on it rather than lose tasks later.
 */
export class RedisEvictionPolicyError extends Error {
  constructor(readonly policy: string) {
    super(
      `Redis maxmemory-policy is "${policy}": under memory pressure Redis would evict Taskdock's ` +
        'queues and task records. Taskdock needs noeviction (writes then fail loudly instead). ' +
        'Fix: run `redis-cli CONFIG SET maxmemory-policy noeviction` (then `CONFIG REWRITE` to ' +
        'keep it), or put the line `maxmemory-policy noeviction` in redis.conf; on a managed ' +
        "Redis, set the provider's maxmemory-policy parameter to noeviction.",
    );
    this.name = 'RedisEvictionPolicyError';
  }
}

/** `INFO` text → its `key:value` fields. */
function infoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return fields;
}

/** maxmemory-policy by CONFIG GET, else by INFO memory (managed Redis often refuses CONFIG). */
async function evictionPolicy(node: Redis): Promise<string | null> {
  try {
    const reply = (await node.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
    if (reply[1]) return reply[1];
  } catch (err) {
    if (!(err instanceof ReplyError)) throw err;
  }
  return infoFields(await node.info('memory')).get('maxmemory_policy') ?? null;
}

async function probeNode(node: Redis) {
  const info = infoFields(
    [
      await node.info('server'),
      await node.info('persistence'),
      await node.info('replication'),
    ].join('\n'),
  );
  return {
    version: info.get('redis_version') ?? 'unknown',
    role: info.get('role') === 'slave' ? ('replica' as const) : ('master' as const),
    replicas: Number(info.get('connected_slaves') ?? 0),
    aof: info.get('aof_enabled') === '1',
    policy: await evictionPolicy(node),
  };
}

/**
 * What the server is, checked once at start: refuses an evicting maxmemory-policy (throws
 * RedisEvictionPolicyError); says in `warnings` what else a user should know (AOF off, the
 * policy could not be read, a read-only replica). On a Cluster every primary is checked.
 */
export async function probeRedis(
  redis: RedisConnection,
  spec: RedisConnectionSpec,
): Promise<RedisServerInfo> {
  const nodes = redis instanceof Cluster ? await clusterPrimaries(redis) : [redis];
  const probed = [];
  for (const node of nodes) probed.push(await probeNode(node));
  const first = probed[0];
  if (!first) throw new Error('the Redis Cluster has no primary');
  const refused = probed.find((p) => p.policy !== null && p.policy !== 'noeviction');
  if (refused?.policy) throw new RedisEvictionPolicyError(refused.policy);
  const warnings: string[] = [];
  if (probed.some((p) => p.policy === null)) {
    warnings.push(
      'maxmemory-policy could not be checked (CONFIG and INFO memory refused): make sure it is noeviction, or Redis may evict tasks',
    );
  }
  if (probed.some((p) => !p.aof)) {
    warnings.push(
      'AOF is off (appendonly no): tasks created or finished since the last RDB snapshot are lost if Redis stops abruptly; set `appendonly yes`',
    );
  }
  if (first.role === 'replica') {
    warnings.push('this Redis is a replica: it refuses writes; point Taskdock at the primary');
  }
  return {
    connection: describeRedis(spec),
    topology: spec.form === 'url' ? 'standalone' : spec.form,
    version: first.version,
    role: first.role,
    primaries: probed.length,
    replicas: probed.reduce((sum, p) => sum + p.replicas, 0),
    maxmemoryPolicy: first.policy,
    aof: probed.every((p) => p.aof),
    warnings,
  };
}

async function clusterPrimaries(cluster: Cluster): Promise<Redis[]> {
  if (cluster.status !== 'ready') {
    await new Promise<void>((resolve, reject) => {
      cluster.once('ready', resolve);
      cluster.once('end', () => reject(new Error('the Redis Cluster connection ended')));
    });
  }
  return cluster.nodes('master');
}
