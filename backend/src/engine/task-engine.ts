import type {
  BulkAction,
  BulkActionRequest,
  BulkActionResult,
  CheckSchedule,
  CreateTask,
  ListTasksQuery,
  QueueState,
  RemoveFinishedResult,
  Schedule,
  ScheduleCheck,
  Stats,
  Task,
  TaskList,
  TaskLogLine,
  UpsertSchedule,
  WorkerInfo,
  WorkflowInfo,
} from '@taskdock/shared/contract';

export interface CreateOutcome {
  readonly task: Task;
  /** False when an idempotency key returned an earlier task. */
  readonly created: boolean;
}

/** One task event as the feed delivers it, ready to send. */
export interface StreamEvent {
  /** Increasing event id (contract/event-id.ts): what Last-Event-ID resumes from. */
  readonly id: string;
  readonly type: string;
  readonly taskId: string;
  /** The TaskEvent as JSON. */
  readonly data: string;
}

/** A change to a workflow's queue; what is left out stays as it is. */
export interface QueueChange {
  /** true pauses the queue (no task of it starts; running ones finish), false resumes it. */
  readonly paused?: boolean;
  /** At most this many of its tasks run at once across all workers; null removes the limit. */
  readonly globalConcurrency?: number | null;
}

export type EventListener = (event: StreamEvent) => void;

/** Every task event, live and since an id (resume). */
export interface TaskEventFeed {
  /** Calls `listener` with each new event; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void;
  /** Events after `afterId` (exclusive), oldest first. */
  replay(afterId: string): AsyncIterable<StreamEvent>;
  /** The id of the newest event; undefined while there is none. */
  newestId(): Promise<string | undefined>;
}

/**
 * The task engine as the API, the supervised backend and tests use it; the only way to reach
 * tasks. Failures are EngineErrors (engine/errors.ts): NotFoundError, ConflictError,
 * InvalidInputError with field paths relative to the input given here. The Redis/BullMQ engine
 * is `createRedisEngine` (engine/redis-engine.ts).
 */
export interface TaskEngine {
  /** Validates against the workflow's params schema and queues the task. */
  create(input: CreateTask): Promise<CreateOutcome>;
  /** All or nothing at validation: one bad item rejects the batch before anything is queued. */
  createMany(inputs: readonly CreateTask[]): Promise<CreateOutcome[]>;
  /** The task, or null when no task has this id. */
  get(id: string): Promise<Task | null>;
  /** Throws NotFoundError when `id` can name no task (not an id's shape, or no such workflow). */
  checkTaskId(id: string): Promise<void>;
  /** Newest first, in pages (`nextCursor`); InvalidInputError on a cursor it did not return. */
  list(query: ListTasksQuery): Promise<TaskList>;
  /** Stops a queued, scheduled or running task; ConflictError ALREADY_FINISHED after its end. */
  cancel(id: string): Promise<Task>;
  /** Queues a failed or cancelled task again (ConflictError NOT_RETRYABLE otherwise). */
  retry(id: string): Promise<Task>;
  /** Deletes the task (cancelling it first when it runs); ConflictError TASK_LOCKED if held. */
  remove(id: string): Promise<void>;
  /** The newest `limit` log lines of the task, oldest first. */
  logs(id: string, limit?: number): Promise<TaskLogLine[]>;
  readonly events: TaskEventFeed;
  /** Totals since install, counts by status, throughput and workers. */
  stats(): Promise<Stats>;
  /** The live workers (their heartbeat has not expired). */
  workers(): Promise<WorkerInfo[]>;
  /**
   * The workflows tasks can be created for, with their params schema, source and live workers;
   * then the workflow files that did not load, each with its error (workflows/workflow-info.ts).
   */
  workflows(): Promise<WorkflowInfo[]>;
  /** Creates or replaces a cron schedule that creates tasks. */
  upsertSchedule(name: string, input: UpsertSchedule): Promise<Schedule>;
  listSchedules(): Promise<Schedule[]>;
  /** NotFoundError when no schedule has this name. */
  removeSchedule(name: string): Promise<void>;
  /** Stops it making tasks, keeping its definition (NotFoundError when there is none). */
  pauseSchedule(name: string): Promise<Schedule>;
  resumeSchedule(name: string): Promise<Schedule>;
  /** The coming run times of a pattern and zone; InvalidInputError at `/pattern` or `/tz`. */
  checkSchedule(input: CheckSchedule): Promise<ScheduleCheck>;
  /** Each workflow's queue: paused, global concurrency (in the order of `workflows()`). */
  queues(): Promise<QueueState[]>;
  /** Applies the change and returns the queue as it is then; NotFoundError for no such workflow. */
  updateQueue(workflow: string, change: QueueChange): Promise<QueueState>;
  /**
   * Deletes the workflow's finished tasks (completed, failed, cancelled) that finished at or
   * before `finishedBefore`, at most QUEUE_LIMITS.maxRemovePerCall per call (`remaining` says how
   * many are left); `dryRun` only counts. NotFoundError for no such workflow.
   */
  removeFinished(
    workflow: string,
    request: { readonly finishedBefore: string; readonly dryRun?: boolean },
  ): Promise<RemoveFinishedResult>;
  /**
   * Cancels, retries or deletes every task `list` gives for the filter, in bounded calls
   * (BULK_LIMITS; go on with `nextCursor`), or counts them (`dryRun`). `runBulkAction`
   * (engine/bulk-actions.ts) does it on any engine's list, cancel, retry and remove.
   */
  bulk(action: BulkAction, request: BulkActionRequest): Promise<BulkActionResult>;
  /**
   * `retry` with new params, validated as `create` validates them (InvalidInputError with
   * `/params/…` fields); the task's next attempts run with them, and the task keeps a record of
   * the edit (which params changed, and when).
   */
  retryWithParams(id: string, params: Record<string, unknown>): Promise<Task>;
  /** Resolves when the engine's store answers; rejects with its error when it does not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
