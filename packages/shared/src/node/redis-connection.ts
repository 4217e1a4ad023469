import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

/**
 * How Taskdock reaches its Redis: one home for the connection forms (docs/scale-out.md
 * "Connecting to Redis"), the client options every long-lived client gets, and a description
 * that is safe for logs. Backend, worker and supervisor all parse the same variables here.
 */

type Env = Readonly<Record<string, string | undefined>>;

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

export interface RedisAuth {
  readonly username: string | undefined;
  readonly password: string | undefined;
}

/** TLS towards Redis; `caFile` replaces the system CAs when given. */
export interface RedisTls {
  readonly caFile: string | undefined;
}

export type RedisConnectionSpec =
  | {
      readonly form: 'url';
      readonly address: RedisAddress;
      readonly db: number;
      readonly auth: RedisAuth;
      readonly tls: RedisTls | undefined;
    }
  | {
      readonly form: 'sentinel';
      readonly sentinels: readonly RedisAddress[];
      /** The master group name Sentinel monitors. */
      readonly name: string;
      /** Of the data nodes (primary and replicas). */
      readonly auth: RedisAuth;
      /** Of the Sentinels themselves; often none. */
      readonly sentinelAuth: RedisAuth;
      readonly tls: RedisTls | undefined;
    }
  | {
      readonly form: 'cluster';
      /** Seed nodes; the client learns the rest from CLUSTER SLOTS. */
      readonly nodes: readonly RedisAddress[];
      readonly auth: RedisAuth;
      readonly tls: RedisTls | undefined;
    };

/** A long-lived client of any form: the engine, workers and sessions take either. */
export type RedisConnection = Redis | Cluster;

/** Every variable of the connection forms: the supervisor passes exactly these on. */
export const REDIS_CONNECTION_KEYS = [
  'TASKDOCK_REDIS_URL',
  'TASKDOCK_REDIS_SENTINELS',
  'TASKDOCK_REDIS_SENTINEL_NAME',
  'TASKDOCK_REDIS_SENTINEL_USERNAME',
  'TASKDOCK_REDIS_SENTINEL_PASSWORD',
  'TASKDOCK_REDIS_CLUSTER',
  'TASKDOCK_REDIS_USERNAME',
  'TASKDOCK_REDIS_PASSWORD',
  'TASKDOCK_REDIS_TLS',
  'TASKDOCK_REDIS_CA_FILE',
] as const;

/** The variable that chose each form, for messages such as "TASKDOCK_REDIS_SENTINELS is set". */
export const REDIS_FORM_VARIABLES = {
  url: 'TASKDOCK_REDIS_URL',
  sentinel: 'TASKDOCK_REDIS_SENTINELS',
  cluster: 'TASKDOCK_REDIS_CLUSTER',
} as const satisfies Record<RedisConnectionSpec['form'], string>;

/** Of REDIS_CONNECTION_KEYS, the ones that may hold a password: never in env or argv of a child. */
export const REDIS_SECRET_KEYS = [
  'TASKDOCK_REDIS_URL',
  'TASKDOCK_REDIS_PASSWORD',
  'TASKDOCK_REDIS_SENTINEL_PASSWORD',
] as const;

const MAX_NODES = 64;

/**
 * Reads the connection forms from `env`: `TASKDOCK_REDIS_URL`, `TASKDOCK_REDIS_SENTINELS` (+
 * `_SENTINEL_NAME`) or `TASKDOCK_REDIS_CLUSTER`, exactly one. `spec` is undefined when none is
 * given (or when one is bad); `problems` lists every bad variable, never quoting a secret.
 */
export function readRedisConnection(env: Env): {
  readonly spec: RedisConnectionSpec | undefined;
  readonly problems: readonly string[];
} {
  const problems: string[] = [];
  const value = (name: (typeof REDIS_CONNECTION_KEYS)[number]) => env[name]?.trim() || undefined;
  const url = value('TASKDOCK_REDIS_URL');
  const sentinels = value('TASKDOCK_REDIS_SENTINELS');
  const cluster = value('TASKDOCK_REDIS_CLUSTER');
  const given = [
    url && 'TASKDOCK_REDIS_URL',
    sentinels && 'TASKDOCK_REDIS_SENTINELS',
    cluster && 'TASKDOCK_REDIS_CLUSTER',
  ].filter((name): name is string => Boolean(name));
  if (given.length > 1) {
    problems.push(`${given.join(' and ')} are set: choose one form of connecting to Redis`);
  }

  const tlsFlag = value('TASKDOCK_REDIS_TLS');
  if (tlsFlag !== undefined && tlsFlag !== '0' && tlsFlag !== '1') {
    problems.push(`TASKDOCK_REDIS_TLS must be 1 or 0, got "${tlsFlag}"`);
  }
  const caFile = value('TASKDOCK_REDIS_CA_FILE');
  if (caFile !== undefined && !path.isAbsolute(caFile)) {
    problems.push(`TASKDOCK_REDIS_CA_FILE must be an absolute path, got "${caFile}"`);
  }
  const auth: RedisAuth = {
    username: value('TASKDOCK_REDIS_USERNAME'),
    password: value('TASKDOCK_REDIS_PASSWORD'),
  };
  const sentinelAuth: RedisAuth = {
    username: value('TASKDOCK_REDIS_SENTINEL_USERNAME'),
    password: value('TASKDOCK_REDIS_SENTINEL_PASSWORD'),
  };
  const name = value('TASKDOCK_REDIS_SENTINEL_NAME');

  // Variables that belong to a form that is not the one given are refused, never ignored.
  const onlyWith = (names: readonly string[], form: string, used: boolean) => {
    for (const other of names) {
      if (!used && value(other as (typeof REDIS_CONNECTION_KEYS)[number]) !== undefined) {
        problems.push(`${other} is only read with ${form}`);
      }
    }
  };
  onlyWith(
    [
      'TASKDOCK_REDIS_SENTINEL_NAME',
      'TASKDOCK_REDIS_SENTINEL_USERNAME',
      'TASKDOCK_REDIS_SENTINEL_PASSWORD',
    ],
    'TASKDOCK_REDIS_SENTINELS',
    sentinels !== undefined,
  );
  onlyWith(
    ['TASKDOCK_REDIS_USERNAME', 'TASKDOCK_REDIS_PASSWORD', 'TASKDOCK_REDIS_TLS'],
    'TASKDOCK_REDIS_SENTINELS or TASKDOCK_REDIS_CLUSTER (a URL carries its own user, password and rediss://)',
    sentinels !== undefined || cluster !== undefined,
  );
  if (given.length === 0 && caFile !== undefined) {
    problems.push('TASKDOCK_REDIS_CA_FILE is set but no Redis connection is');
  }

  let spec: RedisConnectionSpec | undefined;
  if (url !== undefined) {
    const parsed = parseRedisUrl(url, problems);
    if (parsed) {
      const tls = parsed.tls ? { caFile } : undefined;
      if (!tls && caFile !== undefined) {
        problems.push('TASKDOCK_REDIS_CA_FILE needs a rediss:// TASKDOCK_REDIS_URL');
      }
      spec = { form: 'url', ...parsed, tls };
    }
  }
  const tls = tlsFlag === '1' ? { caFile } : undefined;
  if ((sentinels !== undefined || cluster !== undefined) && !tls && caFile !== undefined) {
    problems.push('TASKDOCK_REDIS_CA_FILE needs TASKDOCK_REDIS_TLS=1');
  }
  if (sentinels !== undefined) {
    const addresses = parseAddresses('TASKDOCK_REDIS_SENTINELS', sentinels, 26379, problems);
    if (name === undefined) {
      problems.push('TASKDOCK_REDIS_SENTINEL_NAME is required with TASKDOCK_REDIS_SENTINELS');
    } else if (!/^[A-Za-z0-9_.-]{1,200}$/.test(name)) {
      problems.push(
        `TASKDOCK_REDIS_SENTINEL_NAME must be a master name (letters, digits, _ . -), got "${name}"`,
      );
    }
    if (addresses && name !== undefined) {
      spec = { form: 'sentinel', sentinels: addresses, name, auth, sentinelAuth, tls };
    }
  }
  if (cluster !== undefined) {
    const nodes = parseAddresses('TASKDOCK_REDIS_CLUSTER', cluster, 6379, problems);
    if (nodes) spec = { form: 'cluster', nodes, auth, tls };
  }
  if (caFile !== undefined && path.isAbsolute(caFile)) {
    try {
      readFileSync(caFile);
    } catch (err) {
      problems.push(
        `TASKDOCK_REDIS_CA_FILE ${caFile} cannot be read: ${(err as NodeJS.ErrnoException).code}`,
      );
    }
  }
  return { spec: problems.length > 0 ? undefined : spec, problems };
}

function parseRedisUrl(
  raw: string,
  problems: string[],
):
  | (Omit<Extract<RedisConnectionSpec, { form: 'url' }>, 'form' | 'tls'> & { tls: boolean })
  | undefined {
  // Never quoted in a problem: the URL may hold the password.
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push('TASKDOCK_REDIS_URL must be a redis:// or rediss:// URL, got no URL');
    return undefined;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    problems.push(
      `TASKDOCK_REDIS_URL must be a redis:// or rediss:// URL, got a ${url.protocol}// URL`,
    );
    return undefined;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) problems.push('TASKDOCK_REDIS_URL must name a host (redis://host:port)');
  const db = url.pathname === '' || url.pathname === '/' ? 0 : Number(url.pathname.slice(1));
  if (!Number.isInteger(db) || db < 0 || db > 15) {
    problems.push('TASKDOCK_REDIS_URL: the database after the host must be a number from 0 to 15');
  }
  if (url.search || url.hash) {
    problems.push(
      'TASKDOCK_REDIS_URL takes no ?query or #fragment (TLS: rediss:// and TASKDOCK_REDIS_CA_FILE)',
    );
  }
  return {
    address: { host: host || '127.0.0.1', port: Number(url.port || 6379) },
    db: Number.isInteger(db) ? db : 0,
    auth: {
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
    },
    tls: url.protocol === 'rediss:',
  };
}

function parseAddresses(
  variable: string,
  raw: string,
  defaultPort: number,
  problems: string[],
): RedisAddress[] | undefined {
  const addresses: RedisAddress[] = [];
  const parts = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  let bad = parts.length === 0 || parts.length > MAX_NODES;
  for (const part of parts.slice(0, MAX_NODES)) {
    // host:port, host (default port), or [v6]:port.
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$/.exec(part);
    const port = Number(match?.[2] ?? defaultPort);
    if (!match?.[1] || port < 1 || port > 65535) {
      problems.push(`${variable} must list host:port pairs separated by commas, got "${part}"`);
      bad = true;
      continue;
    }
    addresses.push({ host: match[1].replace(/^\[|\]$/g, ''), port });
  }
  if (parts.length === 0 || parts.length > MAX_NODES) {
    problems.push(`${variable} must list 1 to ${MAX_NODES} host:port pairs`);
  }
  return bad ? undefined : addresses;
}

const hostPort = (a: RedisAddress) =>
  a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
const who = (auth: RedisAuth) =>
  auth.username === undefined && auth.password === undefined
    ? ''
    : ` as ${auth.username ?? 'default'}${auth.password === undefined ? '' : ' (password set)'}`;

/** One line for logs and the services page: addresses, user names, TLS; never a password. */
export function describeRedis(spec: RedisConnectionSpec): string {
  const tls = spec.tls ? `, TLS${spec.tls.caFile ? ` (CA ${spec.tls.caFile})` : ''}` : '';
  switch (spec.form) {
    case 'url':
      return `redis${spec.tls ? 's' : ''}://${hostPort(spec.address)}/${spec.db}${who(spec.auth)}${tls}`;
    case 'sentinel':
      return (
        `Sentinel master "${spec.name}" via ${spec.sentinels.map(hostPort).join(', ')}` +
        `${who(spec.auth)}${tls}`
      );
    case 'cluster':
      return `Cluster via ${spec.nodes.map(hostPort).join(', ')}${who(spec.auth)}${tls}`;
  }
}

export interface RedisClientRole {
  /** CLIENT SETNAME, e.g. `taskdock-worker`: who is who in CLIENT LIST. */
  readonly connectionName: string;
  /** `null` for BullMQ's blocking clients (workers): a command waits out a failover. */
  readonly maxRetriesPerRequest?: number | null;
}

/**
 * Options of every long-lived client. Reconnect as ioredis 5 did (50 ms more per try, at most
 * 2 s): ioredis 6 waits up to ~5 s, too long when the supervisor restarts a local redis-server
 * in about a second, or a Sentinel has just promoted a replica. RESP2 is asked for explicitly:
 * every reply shape Taskdock and BullMQ read is the same either way, and RESP3's handshake
 * reports a refused password only as a closed connection.
 */
function baseOptions(spec: RedisConnectionSpec, role: RedisClientRole): RedisOptions {
  const ca = spec.tls?.caFile ? readFileSync(spec.tls.caFile) : undefined;
  return {
    connectionName: role.connectionName,
    protocol: 2,
    retryStrategy: (times) => Math.min(times * 50, 2000),
    ...(role.maxRetriesPerRequest !== undefined
      ? { maxRetriesPerRequest: role.maxRetriesPerRequest }
      : {}),
    ...(spec.auth.username !== undefined ? { username: spec.auth.username } : {}),
    ...(spec.auth.password !== undefined ? { password: spec.auth.password } : {}),
    ...(spec.tls ? { tls: ca ? { ca } : {} } : {}),
  };
}

/** A long-lived client for `spec`: a `Redis` (URL, Sentinel) or a `Cluster`. */
export function createRedisConnection(
  spec: RedisConnectionSpec,
  role: RedisClientRole,
): RedisConnection {
  const options = baseOptions(spec, role);
  switch (spec.form) {
    case 'url':
      return new Redis({
        ...options,
        host: spec.address.host,
        port: spec.address.port,
        db: spec.db,
      });
    case 'sentinel':
      return new Redis({
        ...options,
        sentinels: spec.sentinels.map((a) => ({ host: a.host, port: a.port })),
        name: spec.name,
        ...(spec.sentinelAuth.username !== undefined
          ? { sentinelUsername: spec.sentinelAuth.username }
          : {}),
        ...(spec.sentinelAuth.password !== undefined
          ? { sentinelPassword: spec.sentinelAuth.password }
          : {}),
        ...(spec.tls ? { enableTLSForSentinelMode: true, sentinelTLS: options.tls } : {}),
        // Told by the Sentinels of +switch-master: reconnect at once, not on the next error.
        failoverDetector: true,
        sentinelRetryStrategy: (times) => Math.min(times * 50, 2000),
        // A former primary that came back as a replica refuses writes: find the new one.
        reconnectOnError: (err) => err.message.startsWith('READONLY'),
      });
    case 'cluster': {
      const { retryStrategy: _perNode, ...redisOptions } = options;
      return new Cluster(
        spec.nodes.map((a) => ({ host: a.host, port: a.port })),
        {
          redisOptions,
          clusterRetryStrategy: (times) => Math.min(times * 50, 2000),
        },
      );
    }
  }
}

/**
 * A second client of the same kind and options (a blocking reader, a subscriber), with `override`
 * on top: `duplicate` exists on both `Redis` and `Cluster`, but their signatures differ.
 */
export function duplicateConnection(
  connection: RedisConnection,
  override: Partial<RedisOptions> = {},
): RedisConnection {
  if (connection instanceof Cluster) {
    return connection.duplicate(undefined, {
      redisOptions: { ...connection.options.redisOptions, ...override },
    });
  }
  return connection.duplicate(override);
}

/**
 * Every key matching `match`, in batches: SCAN on a single server, and on each primary of a
 * Cluster (one node's SCAN sees only its own slots).
 */
export async function* scanKeys(
  connection: RedisConnection,
  match: string,
): AsyncGenerator<string[]> {
  const nodes = connection instanceof Cluster ? connection.nodes('master') : [connection];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}
