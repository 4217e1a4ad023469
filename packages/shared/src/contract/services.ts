import { type Static, Type } from '@sinclair/typebox';

const IsoDate = Type.String({ format: 'date-time' });

/** The processes the supervisor runs, in start order. */
export const SERVICE_NAMES = ['redis', 'worker', 'backend'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
/** Log sources: the services plus the supervisor's own lines. */
export const SERVICE_LOG_SOURCES = [...SERVICE_NAMES, 'supervisor'] as const;
export type ServiceLogSource = (typeof SERVICE_LOG_SOURCES)[number];

export const SERVICE_STATUSES = [
  'pending',
  'starting',
  'running',
  'restarting',
  'stopping',
  'stopped',
  'failed',
  /** Not run by the supervisor (e.g. an external Redis given by TASKDOCK_REDIS_URL). */
  'external',
  /** Not needed: in memory mode there is no Redis, and the backend runs the tasks itself. */
  'unused',
] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

export const SERVICE_LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type ServiceLogLevel = (typeof SERVICE_LOG_LEVELS)[number];

/** TASKDOCK_WORKER_PROCESSES: worker processes one supervisor runs (docs/scale-out.md "Roles"). */
export const WORKER_PROCESSES = { default: 1, min: 1, max: 64 } as const;
/** Which of several processes of one service (worker 1 … N); absent when there is one. */
const Instance = Type.Integer({ minimum: 1, maximum: WORKER_PROCESSES.max });

export const ServiceExit = Type.Object({
  at: IsoDate,
  code: Type.Union([Type.Integer(), Type.Null()]),
  signal: Type.Union([Type.String(), Type.Null()]),
  /** Why it ended, in words (e.g. "killed by SIGKILL", "did not become healthy within 20 s"). */
  reason: Type.String(),
  /** The service's last log lines before it ended: its last words are never lost. */
  lastLines: Type.Array(Type.String()),
});
export type ServiceExit = Static<typeof ServiceExit>;

export const ServiceInfo = Type.Object({
  name: Type.Union(SERVICE_NAMES.map((s) => Type.Literal(s))),
  instance: Type.Optional(Instance),
  status: Type.Union(SERVICE_STATUSES.map((s) => Type.Literal(s))),
  pid: Type.Union([Type.Integer(), Type.Null()]),
  restarts: Type.Integer({ minimum: 0, description: 'restarts after crashes in this run' }),
  startedAt: Type.Union([IsoDate, Type.Null()]),
  readyAt: Type.Union([IsoDate, Type.Null()]),
  lastExit: Type.Union([ServiceExit, Type.Null()]),
  /** Set when failed: the actionable reason. */
  message: Type.Optional(Type.String()),
});
export type ServiceInfo = Static<typeof ServiceInfo>;

/** What the backend's start probe found of its Redis (backend/src/redis-probe.ts). */
export const RedisServerInfo = Type.Object({
  /** Addresses, user and TLS of the connection; never a password. */
  connection: Type.String(),
  topology: Type.Union([
    Type.Literal('standalone'),
    Type.Literal('sentinel'),
    Type.Literal('cluster'),
  ]),
  version: Type.String(),
  /** Of the node written to (the first primary on a Cluster). */
  role: Type.Union([Type.Literal('master'), Type.Literal('replica')]),
  /** 1, or the Cluster's primaries. */
  primaries: Type.Integer({ minimum: 0 }),
  /** Replicas connected to the primaries at start. */
  replicas: Type.Integer({ minimum: 0 }),
  /** Null: Redis refused to say (CONFIG and INFO memory). Only noeviction starts. */
  maxmemoryPolicy: Type.Union([Type.String(), Type.Null()]),
  /** appendonly yes on every primary. */
  aof: Type.Boolean(),
  /** What the probe warns of (AOF off, the policy unchecked …). */
  warnings: Type.Array(Type.String()),
});
export type RedisServerInfo = Static<typeof RedisServerInfo>;

export const ServiceList = Type.Object({
  /** False when the backend runs without a supervisor (e.g. `npm run dev:server`). */
  supervised: Type.Boolean(),
  services: Type.Array(ServiceInfo),
  /** The backend's Redis as probed at start; absent in memory mode. */
  redis: Type.Optional(RedisServerInfo),
});
export type ServiceList = Static<typeof ServiceList>;

export const ServiceLogLine = Type.Object({
  /** Increases with every line of a supervisor run; the SSE event id. */
  seq: Type.Integer(),
  ts: IsoDate,
  service: Type.Union(SERVICE_LOG_SOURCES.map((s) => Type.Literal(s))),
  instance: Type.Optional(Instance),
  stream: Type.Union([Type.Literal('stdout'), Type.Literal('stderr'), Type.Literal('system')]),
  level: Type.Union(SERVICE_LOG_LEVELS.map((l) => Type.Literal(l))),
  /** The message: pino's `msg` (plus its error message), or the raw line. */
  text: Type.String(),
  /** The other fields of a pino JSON line. */
  fields: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type ServiceLogLine = Static<typeof ServiceLogLine>;

export const SERVICE_LOG_MAX_LIMIT = 5000;

export const ServiceLogQuery = Type.Object(
  {
    service: Type.Optional(Type.Union(SERVICE_LOG_SOURCES.map((s) => Type.Literal(s)))),
    /** Minimum level: `warn` returns warn, error and fatal lines. */
    level: Type.Optional(Type.Union(SERVICE_LOG_LEVELS.map((l) => Type.Literal(l)))),
    /** Case-insensitive substring of the text or the fields. */
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: SERVICE_LOG_MAX_LIMIT, default: 200 }),
    ),
    /** Only lines with a larger `seq`. */
    after: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type ServiceLogQuery = Static<typeof ServiceLogQuery>;

export const ServiceLogList = Type.Object({
  supervised: Type.Boolean(),
  /** Oldest first; the newest `limit` lines that match. */
  lines: Type.Array(ServiceLogLine),
});
export type ServiceLogList = Static<typeof ServiceLogList>;

/**
 * Filters of `GET /api/logs/stream`. The stream first sends the newest `limit` matching lines
 * (or, with a Last-Event-ID header, every buffered line after it), then each new line.
 */
export const ServiceLogStreamQuery = Type.Omit(ServiceLogQuery, ['after']);
export type ServiceLogStreamQuery = Static<typeof ServiceLogStreamQuery>;

/**
 * Messages on the IPC channel between the supervisor and the backend process it runs. The
 * supervisor owns the state; the backend asks for it, so either side can restart (a new
 * backend gets a `services` message at once, a new supervisor starts a new backend).
 */
export type SupervisorMessage =
  | { readonly type: 'taskdock:services'; readonly services: ServiceInfo[] }
  | { readonly type: 'taskdock:logs'; readonly id: number; readonly lines: ServiceLogLine[] }
  | { readonly type: 'taskdock:log-lines'; readonly lines: ServiceLogLine[] }
  /** Polite stop (the only way to ask for a graceful stop on Windows). */
  | { readonly type: 'taskdock:stop' };

export type BackendMessage =
  /** Sent once the backend listens for messages; the supervisor answers with `services`. */
  | { readonly type: 'taskdock:hello' }
  | { readonly type: 'taskdock:query-logs'; readonly id: number; readonly query: ServiceLogQuery }
  /** Whether the backend wants every new line pushed (it has live log subscribers). */
  | { readonly type: 'taskdock:follow-logs'; readonly follow: boolean }
  /** Stop this backend and start it again: a saved setting (remote workers) applies at start. */
  | { readonly type: 'taskdock:restart-backend' };

export const LOG_LEVEL_ORDER: Readonly<Record<ServiceLogLevel, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/** The one filter both sides apply: service, minimum level and a case-insensitive search. */
export function serviceLogMatches(
  line: ServiceLogLine,
  query: Omit<ServiceLogQuery, 'limit'>,
): boolean {
  if (query.after !== undefined && line.seq <= query.after) return false;
  if (query.service !== undefined && line.service !== query.service) return false;
  if (query.level !== undefined && LOG_LEVEL_ORDER[line.level] < LOG_LEVEL_ORDER[query.level])
    return false;
  if (query.q !== undefined) {
    const needle = query.q.toLowerCase();
    if (line.text.toLowerCase().includes(needle)) return true;
    return line.fields !== undefined && JSON.stringify(line.fields).toLowerCase().includes(needle);
  }
  return true;
}
