import { type Static, Type } from '@sinclair/typebox';
import { WorkerInfo } from './system.ts';
import { WELL_FORMED_TEXT_PATTERN, WorkflowName } from './task-id.ts';

export const TASK_STATUSES = [
  'queued',
  'scheduled',
  'running',
  'completed',
  'failed',
  'cancelled',
] as const;
export const TaskStatus = Type.Union(TASK_STATUSES.map((s) => Type.Literal(s)));
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const FINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];

const IsoDate = Type.String({ format: 'date-time' });

export const TaskError = Type.Object({
  message: Type.String(),
  code: Type.Optional(Type.String()),
  stack: Type.Optional(Type.String()),
});
export type TaskError = Static<typeof TaskError>;

export const TaskProgress = Type.Object({
  percent: Type.Number({ minimum: 0, maximum: 100 }),
  step: Type.Optional(Type.String()),
});
export type TaskProgress = Static<typeof TaskProgress>;

export const ATTEMPT_OUTCOMES = [
  'running',
  'completed',
  'failed',
  'cancelled',
  /** The worker died or lost its lock; the task went back to the queue. */
  'stalled',
  /** Handed back by its worker (shutdown, a remote worker's release): no attempt counted. */
  'released',
] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** One run of a task by one worker, as the task detail and its timeline show it. */
export const TaskAttempt = Type.Object({
  /** 1 for the first run; every run gets the next number (a stall or a release too). */
  number: Type.Integer({ minimum: 1 }),
  workerId: Type.Optional(Type.String()),
  startedAt: IsoDate,
  finishedAt: Type.Optional(IsoDate),
  durationMs: Type.Optional(Type.Integer({ minimum: 0 })),
  outcome: Type.Union(ATTEMPT_OUTCOMES.map((o) => Type.Literal(o))),
  error: Type.Optional(TaskError),
  /** Params this attempt ran with, when an edit-and-retry changed them. */
  params: Type.Optional(Type.Unknown()),
});
export type TaskAttempt = Static<typeof TaskAttempt>;

export const Task = Type.Object({
  id: Type.String({ description: '<workflow>:<BullMQ job id>' }),
  workflow: Type.String(),
  status: TaskStatus,
  params: Type.Unknown(),
  progress: TaskProgress,
  result: Type.Optional(Type.Unknown()),
  error: Type.Optional(TaskError),
  /** Runs started so far (a retry through the API starts over); `attemptHistory` has each. */
  attempts: Type.Integer({ minimum: 0 }),
  maxAttempts: Type.Integer({ minimum: 1 }),
  /** Every run, oldest first; only on `GET /api/tasks/:id`. */
  attemptHistory: Type.Optional(Type.Array(TaskAttempt)),
  priority: Type.Integer({ minimum: 0 }),
  owner: Type.Optional(Type.String()),
  source: Type.Optional(Type.String()),
  /** The schedule that created the task (tasks of a cron schedule). */
  schedule: Type.Optional(Type.String()),
  idempotencyKey: Type.Optional(Type.String()),
  timeoutMs: Type.Optional(Type.Integer()),
  createdAt: IsoDate,
  scheduledFor: Type.Optional(IsoDate),
  /** Start of the current (or last) attempt. */
  startedAt: Type.Optional(IsoDate),
  /** Start of the first attempt. */
  firstStartedAt: Type.Optional(IsoDate),
  finishedAt: Type.Optional(IsoDate),
  /** Moves on every change, progress included. */
  updatedAt: IsoDate,
});
export type Task = Static<typeof Task>;

/** A task as lists show it: everything but the result, which only `GET /api/tasks/:id` returns. */
export const TaskSummary = Type.Omit(Task, ['result', 'attemptHistory']);
export type TaskSummary = Static<typeof TaskSummary>;

/** Limits shared by the API schema and the engine, so both refuse the same input. */
export const TASK_LIMITS = {
  maxAttempts: 100,
  /** BullMQ's own maximum (PRIORITY_LIMIT = 2^21 - 1): it refuses larger ones. */
  maxPriority: 2_097_151,
  /** Under Node's timer maximum (2^31 - 1 ms), above which a timeout would fire at once. */
  maxTimeoutMs: 7 * 24 * 3600 * 1000,
  /** For delayMs and for runAt (at most this far ahead). */
  maxDelayMs: 365 * 24 * 3600 * 1000,
  /** First retry delay; each further retry waits twice as long (BullMQ's exponential backoff). */
  maxBackoffMs: 3_600_000,
  maxBulk: 1000,
  maxListLimit: 500,
  /** Characters of an owner, source or idempotency key. */
  maxLabelLength: 200,
  /** Top-level keys of `params` (each workflow's schema bounds what is inside). */
  maxParams: 100,
} as const;

/** Free text that becomes part of Redis keys and sets: bounded and well-formed. */
export const Label = Type.String({
  minLength: 1,
  maxLength: TASK_LIMITS.maxLabelLength,
  pattern: WELL_FORMED_TEXT_PATTERN.pattern,
});
/** A task's or schedule's params object (the workflow's schema checks its content). */
export const TaskParams = Type.Record(Type.String(), Type.Unknown(), {
  maxProperties: TASK_LIMITS.maxParams,
});

export const CreateTask = Type.Object(
  {
    workflow: WorkflowName,
    params: Type.Optional(TaskParams),
    priority: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: TASK_LIMITS.maxPriority,
        description: '0 is highest (no priority); larger numbers run later, as in BullMQ',
      }),
    ),
    maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: TASK_LIMITS.maxAttempts })),
    backoffMs: Type.Optional(Type.Integer({ minimum: 0, maximum: TASK_LIMITS.maxBackoffMs })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: TASK_LIMITS.maxTimeoutMs })),
    delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: TASK_LIMITS.maxDelayMs })),
    runAt: Type.Optional(
      Type.String({
        format: 'date-time',
        maxLength: 64,
        description: 'at most maxDelayMs ahead; a time in the past means now',
      }),
    ),
    idempotencyKey: Type.Optional(Label),
    owner: Type.Optional(Label),
    source: Type.Optional(Label),
  },
  { additionalProperties: false },
);
export type CreateTask = Static<typeof CreateTask>;

export const BulkCreateTasks = Type.Object(
  {
    tasks: Type.Array(CreateTask, { minItems: 1, maxItems: TASK_LIMITS.maxBulk }),
  },
  { additionalProperties: false },
);
export type BulkCreateTasks = Static<typeof BulkCreateTasks>;

export const BulkCreateResult = Type.Object({
  items: Type.Array(Type.Object({ task: Task, created: Type.Boolean() })),
});
export type BulkCreateResult = Static<typeof BulkCreateResult>;

export const ListTasksQuery = Type.Object(
  {
    status: Type.Optional(TaskStatus),
    workflow: Type.Optional(WorkflowName),
    owner: Type.Optional(Label),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: TASK_LIMITS.maxListLimit, default: 50 }),
    ),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  { additionalProperties: false },
);
export type ListTasksQuery = Static<typeof ListTasksQuery>;

export const TaskList = Type.Object({
  items: Type.Array(TaskSummary),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type TaskList = Static<typeof TaskList>;

export const TaskLogLine = Type.Object({
  ts: IsoDate,
  stream: Type.Union([Type.Literal('stdout'), Type.Literal('stderr'), Type.Literal('system')]),
  text: Type.String(),
  /** The attempt (TaskAttempt.number) that wrote the line. */
  attempt: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type TaskLogLine = Static<typeof TaskLogLine>;

export const TaskLogs = Type.Object({ lines: Type.Array(TaskLogLine) });
export type TaskLogs = Static<typeof TaskLogs>;

export const TASK_EVENT_TYPES = [
  'created',
  'queued',
  'scheduled',
  'running',
  'progress',
  'completed',
  'failed',
  'cancelled',
  'removed',
] as const;
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

/**
 * One change of one task, as sent on `GET /api/events` (SSE: `id:` is the event's stream id,
 * `event:` its type). `queued`/`scheduled` mark a task going back to waiting (retry, stall,
 * worker shutdown); `status` is the task's status right after the change (absent once removed).
 */
export const TaskEvent = Type.Object({
  type: Type.Union(TASK_EVENT_TYPES.map((t) => Type.Literal(t))),
  taskId: Type.String(),
  workflow: Type.String(),
  ts: IsoDate,
  status: Type.Optional(TaskStatus),
  progress: Type.Optional(TaskProgress),
  error: Type.Optional(TaskError),
});
export type TaskEvent = Static<typeof TaskEvent>;

const Counts = Type.Object({
  created: Type.Integer(),
  completed: Type.Integer(),
  failed: Type.Integer(),
  cancelled: Type.Integer(),
});
const ByStatus = Type.Object(
  Object.fromEntries(TASK_STATUSES.map((s) => [s, Type.Integer()])) as Record<
    TaskStatus,
    ReturnType<typeof Type.Integer>
  >,
);
export type ByStatus = Static<typeof ByStatus>;

/** Finished tasks (completed + failed + cancelled) per minute, averaged over each window. */
export const Throughput = Type.Object({
  last1m: Type.Number(),
  last5m: Type.Number(),
  last15m: Type.Number(),
});

export const Stats = Type.Object({
  /** Since install; persisted in Redis. */
  totals: Counts,
  byStatus: ByStatus,
  workflows: Type.Array(
    Type.Object({
      name: Type.String(),
      totals: Counts,
      byStatus: ByStatus,
      throughput: Throughput,
      /** Its queue is paused: queued tasks wait until it is resumed. */
      paused: Type.Boolean(),
    }),
  ),
  throughput: Throughput,
  workers: Type.Array(WorkerInfo),
});
export type Stats = Static<typeof Stats>;
