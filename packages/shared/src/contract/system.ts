import { type Static, Type } from '@sinclair/typebox';

export const WorkerInfo = Type.Object({
  id: Type.String(),
  host: Type.String(),
  pid: Type.Integer(),
  workflows: Type.Array(Type.String()),
  concurrency: Type.Integer(),
  running: Type.Integer(),
  /** Ids of the tasks it runs right now. */
  activeTasks: Type.Array(Type.String()),
  startedAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  /** A remote worker (HTTP leases; `pid` is 0, `host` its address): see docs/remote-workers.md. */
  remote: Type.Optional(
    Type.Object({
      address: Type.String(),
      /** The worker token it calls with (absent: the main token). */
      tokenName: Type.Optional(Type.String()),
      /** Leases it holds now. */
      leases: Type.Integer({ minimum: 0 }),
      lastHeartbeatAt: Type.String({ format: 'date-time' }),
      /** A lease of it expired: it stopped calling while holding a task. */
      lost: Type.Boolean(),
    }),
  ),
});
export type WorkerInfo = Static<typeof WorkerInfo>;

export const Health = Type.Object({ status: Type.Literal('ok') });

export const STORE_MODES = ['redis', 'memory'] as const;
export type StoreMode = (typeof STORE_MODES)[number];

/** Where tasks live (TASKDOCK_STORE), and why: memory mode says what made it so. */
export const StoreInfo = Type.Object({
  mode: Type.Union(STORE_MODES.map((m) => Type.Literal(m))),
  /** Why this store was chosen, e.g. "no redis-server was found (…)" or "TASKDOCK_STORE=memory". */
  reason: Type.String(),
});
export type StoreInfo = Static<typeof StoreInfo>;

/** TASKDOCK_MEMORY_MAX_TASKS: finished tasks memory mode keeps (backend and supervisor check it). */
export const MEMORY_MAX_TASKS = { default: 100_000, min: 100, max: 10_000_000 } as const;

/** What a user does to keep tasks across restarts: shown by the UI, the headless runner, the logs. */
export const DURABLE_MODE_HINT =
  'install redis-server (`apt-get install redis-server` or `brew install redis`) and restart ' +
  'Taskdock (TASKDOCK_STORE=redis then makes a missing Redis an error instead of memory mode)';

export const Readiness = Type.Object({
  ready: Type.Boolean(),
  /** Absent in memory mode: no Redis is used. */
  redis: Type.Optional(
    Type.Object({
      ok: Type.Boolean(),
      latencyMs: Type.Optional(Type.Number()),
      error: Type.Optional(Type.String()),
    }),
  ),
  /** Always sent by the backend; optional only for a client's stand-in answer. */
  store: Type.Optional(StoreInfo),
  workers: Type.Array(WorkerInfo),
});
export type Readiness = Static<typeof Readiness>;

/** Where a workflow is defined: in Taskdock itself or in a file of a workflows folder. */
export const WorkflowSource = Type.Union([
  Type.Object({ kind: Type.Literal('built-in') }),
  Type.Object({ kind: Type.Literal('file'), path: Type.String() }),
  /** Declared with `PUT /api/workflows/:name`; remote workers lease its tasks. */
  Type.Object({ kind: Type.Literal('remote') }),
]);
export type WorkflowSource = Static<typeof WorkflowSource>;

/** Why a workflow file did not load; its tasks are refused until it is fixed. */
export const WorkflowLoadError = Type.Object({
  file: Type.String(),
  line: Type.Optional(Type.Integer({ minimum: 1 })),
  /** JSON pointer of the field at fault, e.g. `/args/2`. */
  field: Type.Optional(Type.String()),
  message: Type.String(),
});
export type WorkflowLoadError = Static<typeof WorkflowLoadError>;

/** `/data/workflows/resize.json:4: /args/1 must be string`: the one way errors and logs say it. */
export function describeWorkflowLoadError(error: WorkflowLoadError): string {
  const at = error.line === undefined ? error.file : `${error.file}:${error.line}`;
  return `${at}: ${error.field ? `${error.field} ` : ''}${error.message}`;
}

export const WorkflowInfo = Type.Object({
  name: Type.String(),
  description: Type.String(),
  paramsSchema: Type.Unknown(),
  source: WorkflowSource,
  /** Set when the workflow's file did not load: then no worker serves it. */
  error: Type.Optional(WorkflowLoadError),
  workers: Type.Integer({ description: 'live workers serving this workflow' }),
  /** Its queue is paused: its tasks wait (`GET /api/queues` has the queue's controls). */
  paused: Type.Boolean(),
});
export type WorkflowInfo = Static<typeof WorkflowInfo>;

export const WorkflowList = Type.Object({ items: Type.Array(WorkflowInfo) });
export type WorkflowList = Static<typeof WorkflowList>;
