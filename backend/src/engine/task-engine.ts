import type {
  CreateTask,
  ListTasksQuery,
  Schedule,
  Stats,
  Task,
  TaskList,
  TaskLogLine,
  UpsertSchedule,
  WorkerInfo,
  WorkflowInfo,
} from '../contract/index.ts';

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
  /** The workflows tasks can be created for, with their params schema and live workers. */
  workflows(): Promise<WorkflowInfo[]>;
  /** Creates or replaces a cron schedule that creates tasks. */
  upsertSchedule(name: string, input: UpsertSchedule): Promise<Schedule>;
  listSchedules(): Promise<Schedule[]>;
  /** NotFoundError when no schedule has this name. */
  removeSchedule(name: string): Promise<void>;
  /** Resolves when the engine's store answers; rejects with its error when it does not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
