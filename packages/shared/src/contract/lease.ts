import { type Static, Type } from '@sinclair/typebox';
import { Task } from './task.ts';
import { TASK_ID_MAX_LENGTH, TASK_ID_PATTERN, WorkflowName } from './task-id.ts';
import { WorkflowGlobs } from './worker-token.ts';

/** Bounds of the lease protocol: shared by the API schema and the lease engine. */
export const LEASE_LIMITS = {
  maxLeasesPerRequest: 100,
  maxWaitMs: 30_000,
  maxWorkerIdLength: 200,
  /** Log lines one heartbeat may carry (each is cut to TASKDOCK_MAX_LOG_LINE_BYTES). */
  maxLogLinesPerHeartbeat: 1000,
  maxLogLineLength: 64 * 1024,
  maxErrorMessageLength: 10_000,
  maxErrorCodeLength: 100,
  maxStepLength: 200,
  maxReleaseDelayMs: 3_600_000,
  maxDescriptionLength: 1000,
  /** How long a task fetched by the compatibility route stays leased without an update. */
  commLeaseMs: 300_000,
} as const;

/** A worker's own name for itself: shown in the workers table and on each attempt. */
export const WorkerId = Type.String({
  minLength: 1,
  maxLength: LEASE_LIMITS.maxWorkerIdLength,
  pattern: '^[A-Za-z0-9_.:@+=~-]+$',
});

export const LeaseRequest = Type.Object(
  {
    workerId: WorkerId,
    /** Names or globs of remote workflows to lease from. */
    workflows: WorkflowGlobs,
    max: Type.Optional(
      Type.Integer({ minimum: 1, maximum: LEASE_LIMITS.maxLeasesPerRequest, default: 1 }),
    ),
    /** Long-poll: wait this long for a task when none is there (0: answer at once). */
    waitMs: Type.Optional(
      Type.Integer({ minimum: 0, maximum: LEASE_LIMITS.maxWaitMs, default: 0 }),
    ),
  },
  { additionalProperties: false },
);
export type LeaseRequest = Static<typeof LeaseRequest>;

export const Lease = Type.Object({
  /** Names this lease in every later call; unguessable. */
  leaseId: Type.String(),
  task: Task,
  /** The task goes back to the queue at this time unless a heartbeat renews the lease. */
  expiresAt: Type.String({ format: 'date-time' }),
  /** Send a heartbeat at least this often. */
  heartbeatIntervalMs: Type.Integer(),
});
export type Lease = Static<typeof Lease>;

export const LeaseList = Type.Object({ leases: Type.Array(Lease) });
export type LeaseList = Static<typeof LeaseList>;

export const LeaseIdParams = Type.Object({
  leaseId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
});
export type LeaseIdParams = Static<typeof LeaseIdParams>;

const LogLines = Type.Array(Type.String({ maxLength: LEASE_LIMITS.maxLogLineLength }), {
  maxItems: LEASE_LIMITS.maxLogLinesPerHeartbeat,
});

export const LeaseProgress = Type.Object(
  {
    percent: Type.Number({ minimum: 0, maximum: 100 }),
    step: Type.Optional(Type.String({ maxLength: LEASE_LIMITS.maxStepLength })),
  },
  { additionalProperties: false },
);

export const Heartbeat = Type.Object(
  { progress: Type.Optional(LeaseProgress), logs: Type.Optional(LogLines) },
  { additionalProperties: false },
);
export type Heartbeat = Static<typeof Heartbeat>;

export const HeartbeatAnswer = Type.Object({
  expiresAt: Type.String({ format: 'date-time' }),
  /** The task was cancelled: stop, then call `fail` or `release` (either ends it cancelled). */
  cancelRequested: Type.Boolean(),
});
export type HeartbeatAnswer = Static<typeof HeartbeatAnswer>;

export const CompleteLease = Type.Object(
  { result: Type.Optional(Type.Unknown()), logs: Type.Optional(LogLines) },
  { additionalProperties: false },
);
export type CompleteLease = Static<typeof CompleteLease>;

export const LeaseError = Type.Object(
  {
    message: Type.String({ minLength: 1, maxLength: LEASE_LIMITS.maxErrorMessageLength }),
    code: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: LEASE_LIMITS.maxErrorCodeLength,
        pattern: '^[A-Za-z0-9_.-]+$',
      }),
    ),
  },
  { additionalProperties: false },
);
export type LeaseError = Static<typeof LeaseError>;

export const FailLease = Type.Object(
  {
    error: LeaseError,
    /** false: fail now, whatever attempts remain. */
    retryable: Type.Optional(Type.Boolean({ default: true })),
    logs: Type.Optional(LogLines),
  },
  { additionalProperties: false },
);
export type FailLease = Static<typeof FailLease>;

export const ReleaseLease = Type.Object(
  {
    /** Keep the task out of reach this long (0: back in the queue at once). */
    delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: LEASE_LIMITS.maxReleaseDelayMs })),
  },
  { additionalProperties: false },
);
export type ReleaseLease = Static<typeof ReleaseLease>;

/** `PUT /api/workflows/:name`: a workflow whose tasks remote workers lease. */
export const DeclareWorkflow = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: LEASE_LIMITS.maxDescriptionLength })),
    /** JSON Schema of the params; tasks are checked against it at create. */
    paramsSchema: Type.Object({}, { additionalProperties: true }),
    remote: Type.Literal(true),
  },
  { additionalProperties: false },
);
export type DeclareWorkflow = Static<typeof DeclareWorkflow>;

export const WorkflowNameParams = Type.Object({ name: WorkflowName });
export type WorkflowNameParams = Static<typeof WorkflowNameParams>;

/** A declared remote workflow, as stored and as `PUT` answers. */
export const RemoteWorkflow = Type.Object({
  name: Type.String(),
  description: Type.String(),
  paramsSchema: Type.Unknown(),
  remote: Type.Literal(true),
  declaredAt: Type.String({ format: 'date-time' }),
});
export type RemoteWorkflow = Static<typeof RemoteWorkflow>;

// The fetch/update style many existing consumers speak (compatibility routes).

export const CommFetchQuery = Type.Object(
  {
    /** Comma-separated workflow names or globs. */
    workflowNames: Type.String({ minLength: 1, maxLength: 2000, pattern: '^[A-Za-z0-9_.*?,-]+$' }),
  },
  { additionalProperties: false },
);
export type CommFetchQuery = Static<typeof CommFetchQuery>;

export const CommTask = Type.Object({
  taskId: Type.String(),
  workflow: Type.String(),
  params: Type.Unknown(),
  status: Type.Literal('FETCHED'),
  createdAt: Type.String({ format: 'date-time' }),
});
export type CommTask = Static<typeof CommTask>;

export const CommFetchAnswer = Type.Object({ task: Type.Union([CommTask, Type.Null()]) });
export type CommFetchAnswer = Static<typeof CommFetchAnswer>;

export const COMM_STATUSES = ['PROCESSING', 'COMPLETED', 'FAILED'] as const;

export const CommUpdate = Type.Object(
  {
    taskId: Type.String({
      minLength: 3,
      maxLength: TASK_ID_MAX_LENGTH,
      pattern: TASK_ID_PATTERN.pattern,
    }),
    status: Type.Union(COMM_STATUSES.map((s) => Type.Literal(s))),
    outputData: Type.Optional(Type.Unknown()),
    error: Type.Optional(
      Type.Union([
        Type.String({ minLength: 1, maxLength: LEASE_LIMITS.maxErrorMessageLength }),
        LeaseError,
      ]),
    ),
    progress: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 100 }), LeaseProgress])),
  },
  { additionalProperties: false },
);
export type CommUpdate = Static<typeof CommUpdate>;

export const CommUpdateAnswer = Type.Object({ ok: Type.Literal(true), task: Task });
export type CommUpdateAnswer = Static<typeof CommUpdateAnswer>;
