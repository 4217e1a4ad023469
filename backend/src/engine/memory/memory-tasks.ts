import { randomUUID } from 'node:crypto';
import os from 'node:os';
import {
  type CreateTask,
  FINAL_STATUSES,
  type ListTasksQuery,
  type Task,
  type TaskAttempt,
  type TaskError,
  type TaskEvent,
  type TaskEventType,
  type TaskList,
  type TaskLogLine,
  type TaskStatus,
  type TaskSummary,
  type WorkerInfo,
} from '@taskdock/shared/contract';
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import { changedKeys, describeParamsEdit } from '../../tasks/edit-retry.ts';
import type { FinishedTask } from '../../tasks/event-relay.ts';
import { formatTaskId } from '../../tasks/keys.ts';
import { AttemptAborted, runTaskAttempt } from '../../worker/task-attempt.ts';
import { truncateUtf8 } from '../../workflows/output-lines.ts';
import type { WorkflowRegistry } from '../../workflows/registry.ts';
import { type LogStream, TaskFailure } from '../../workflows/workflow.ts';
import { CapacityError, ConflictError, InvalidInputError, taskNotFound } from '../errors.ts';
import type { CreateOutcome } from '../task-engine.ts';
import type { EventRing } from './event-ring.ts';
import { MemoryQueue } from './memory-queue.ts';
import type { MemoryStats } from './memory-stats.ts';
import { type TaskRecord, toTask, toTaskSummary } from './task-record.ts';

/** The worker settings the in-process runner keeps to, as a worker process would. */
export type MemoryRunLimits = Pick<
  Config,
  | 'maxPerOwner'
  | 'globalConcurrency'
  | 'maxResultBytes'
  | 'maxLogLines'
  | 'maxLogLineBytes'
  | 'maxHttpBodyBytes'
>;

export interface MemoryTasksOptions {
  readonly registry: WorkflowRegistry;
  readonly logger: Logger;
  readonly concurrency: number;
  readonly limits: MemoryRunLimits;
  readonly retentionMs: number;
  /** Finished tasks kept at most: past it, the oldest finished go. */
  readonly maxTasks: number;
  /** Queued, scheduled and running tasks at most: past it, create refuses (CapacityError). */
  readonly maxUnfinished: number;
  readonly cancelWaitMs: number;
  readonly events: EventRing;
  readonly stats: MemoryStats;
  readonly onFinished?: (task: FinishedTask) => void;
}

/** What a schedule hands over to make one of its runs. */
export interface ScheduledRun {
  readonly schedule: string;
  readonly workflow: string;
  readonly params: Record<string, unknown>;
  readonly owner: string | undefined;
  readonly at: number;
}

/** The worker id of the in-process runner, on attempts and in the worker list. */
export const MEMORY_WORKER_ID = 'memory';
const CANCEL = 'taskdock:cancel';
const SHUTDOWN = 'taskdock:shutdown';
const DEFAULT_BACKOFF_MS = 1000;
/** A filtered page looks at most at this many tasks, then returns a cursor to go on. */
const LIST_SCAN_BUDGET = 5000;
const READY: Promise<void> = Promise.resolve();

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The memory engine's tasks: the store (every task by id and in creation order) and each
 * task's life in it: create, the attempts the queue (memory-queue.ts) starts, run as a worker
 * runs them (worker/task-attempt.ts) with retries and exponential backoff, cancel, retry,
 * remove, the caps on stored tasks and retention.
 */
export class MemoryTasks {
  readonly #o: MemoryTasksOptions;
  readonly #byId = new Map<string, TaskRecord>();
  /** Creation order (seq ascending); removed tasks stay until the next compaction. */
  #order: TaskRecord[] = [];
  #removedInOrder = 0;
  /** Finished tasks, oldest finish first: what the cap and retention remove. */
  readonly #finished = new Map<string, TaskRecord>();
  readonly #idempotency = new Map<string, TaskRecord>();
  /** Stored tasks per schedule name. */
  readonly #perSchedule = new Map<string, number>();
  readonly #queue: MemoryQueue;
  readonly #startedAt = new Date().toISOString();
  #seq = 0;
  /** Told when a task of a schedule is due, or leaves before it is: the schedule makes its next run. */
  onScheduleDue: (record: TaskRecord) => void = () => {};

  constructor(options: MemoryTasksOptions) {
    this.#o = options;
    this.#queue = new MemoryQueue({
      concurrency: options.concurrency,
      maxPerOwner: options.limits.maxPerOwner,
      globalConcurrency: options.limits.globalConcurrency,
      isWaiting: (record) =>
        this.#byId.get(record.id) === record &&
        (record.status === 'queued' || record.status === 'scheduled'),
      onDue: (record) => {
        if (record.status !== 'scheduled') return;
        const now = Date.now();
        this.#setStatus(record, 'queued', now);
        this.#emit(record, 'queued', now, { status: 'queued' });
        if (record.schedule !== undefined) this.onScheduleDue(record);
      },
      start: (record) => this.#start(record),
    });
  }

  // ---- reading

  find(id: string): TaskRecord | undefined {
    return this.#byId.get(id);
  }

  get(id: string): Task | null {
    const record = this.#byId.get(id);
    return record ? toTask(record) : null;
  }

  #require(id: string): TaskRecord {
    const record = this.#byId.get(id);
    if (!record) throw taskNotFound(id);
    return record;
  }

  list(query: ListTasksQuery): TaskList {
    const limit = query.limit ?? 50;
    const needle = query.q?.toLowerCase();
    const before =
      query.cursor === undefined ? Number.POSITIVE_INFINITY : decodeCursor(query.cursor);
    const items: TaskSummary[] = [];
    let scanned = 0;
    for (let i = this.#lastIndexBefore(before); i >= 0; i--) {
      const record = this.#order[i] as TaskRecord;
      if (this.#byId.get(record.id) !== record) continue;
      scanned++;
      if (
        (query.status === undefined || record.status === query.status) &&
        (query.workflow === undefined || record.workflow === query.workflow) &&
        (query.owner === undefined || record.owner === query.owner) &&
        (needle === undefined || matchesText(record, needle))
      ) {
        items.push(toTaskSummary(record));
        if (items.length === limit) return { items, nextCursor: encodeCursor(record.seq) };
      }
      if (scanned >= LIST_SCAN_BUDGET && i > 0) {
        return { items, nextCursor: encodeCursor(record.seq) };
      }
    }
    return { items, nextCursor: null };
  }

  /** The index in #order of the newest task created before `seq`, -1 when none is. */
  #lastIndexBefore(seq: number): number {
    let low = 0;
    let high = this.#order.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((this.#order[mid] as TaskRecord).seq < seq) low = mid + 1;
      else high = mid;
    }
    return low - 1;
  }

  logs(id: string, limit = 1000): TaskLogLine[] {
    const record = this.#require(id);
    const keep = Math.min(limit, this.#o.limits.maxLogLines);
    return record.logs.slice(-keep).map((line) => ({ ...line }));
  }

  worker(): WorkerInfo {
    return {
      id: MEMORY_WORKER_ID,
      host: os.hostname(),
      pid: process.pid,
      workflows: this.#o.registry.list().map((w) => w.name),
      concurrency: this.#o.concurrency,
      running: this.#queue.running().length,
      activeTasks: this.#queue.running().map((r) => r.id),
      startedAt: this.#startedAt,
      lastSeenAt: new Date().toISOString(),
    };
  }

  /** How many tasks a schedule made that are still stored. */
  countOfSchedule(name: string): number {
    return this.#perSchedule.get(name) ?? 0;
  }

  #countSchedule(record: TaskRecord, delta: 1 | -1): void {
    if (record.schedule === undefined) return;
    const count = (this.#perSchedule.get(record.schedule) ?? 0) + delta;
    if (count > 0) this.#perSchedule.set(record.schedule, count);
    else this.#perSchedule.delete(record.schedule);
  }

  // ---- queue controls

  isPaused(workflow: string): boolean {
    return this.#queue.isPaused(workflow);
  }

  globalConcurrency(workflow: string): number | null {
    return this.#queue.globalConcurrency(workflow);
  }

  setPaused(workflow: string, paused: boolean): void {
    this.#queue.setPaused(workflow, paused);
  }

  setGlobalConcurrency(workflow: string, limit: number | null): void {
    this.#queue.setGlobalConcurrency(workflow, limit);
  }

  // ---- changing

  /** Refuses `count` new tasks when they would take the unfinished tasks past the cap. */
  checkRoom(count: number): void {
    const unfinished = this.#byId.size - this.#finished.size;
    if (unfinished + count > this.#o.maxUnfinished) {
      throw new CapacityError(
        `Memory mode holds at most ${this.#o.maxUnfinished} unfinished tasks (queued, scheduled or running) and has ${unfinished}; ` +
          'wait for some to finish or cancel some, or use the Redis store for larger backlogs',
      );
    }
  }

  /** Queues a validated task (its params are the validated ones). */
  create(input: CreateTask, params: Record<string, unknown>): CreateOutcome {
    if (input.idempotencyKey !== undefined) {
      const earlier = this.#idempotency.get(input.idempotencyKey);
      if (earlier) return { task: toTask(earlier), created: false };
    }
    const now = Date.now();
    const delay =
      input.runAt !== undefined ? Math.max(0, Date.parse(input.runAt) - now) : (input.delayMs ?? 0);
    const record = this.#add({
      id: formatTaskId(input.workflow, randomUUID()),
      workflow: input.workflow,
      params,
      now,
      delay,
      maxAttempts: input.maxAttempts ?? 1,
      backoffMs: input.backoffMs ?? DEFAULT_BACKOFF_MS,
      priority: input.priority ?? 0,
      owner: input.owner,
      source: input.source,
      schedule: undefined,
      idempotencyKey: input.idempotencyKey,
      timeoutMs: input.timeoutMs,
    });
    return { task: toTask(record), created: true };
  }

  /** A schedule's run, waiting for its time: id `<workflow>:repeat:<schedule>:<ms>` as BullMQ's. */
  createScheduled(run: ScheduledRun): TaskRecord | undefined {
    const id = formatTaskId(run.workflow, `repeat:${run.schedule}:${run.at}`);
    if (this.#byId.has(id)) return undefined;
    const now = Date.now();
    return this.#add({
      id,
      workflow: run.workflow,
      params: structuredClone(run.params),
      now,
      delay: Math.max(0, run.at - now),
      maxAttempts: 1,
      backoffMs: DEFAULT_BACKOFF_MS,
      priority: 0,
      owner: run.owner,
      source: `schedule:${run.schedule}`,
      schedule: run.schedule,
      idempotencyKey: undefined,
      timeoutMs: undefined,
    });
  }

  #add(spec: {
    id: string;
    workflow: string;
    params: Record<string, unknown>;
    now: number;
    delay: number;
    maxAttempts: number;
    backoffMs: number;
    priority: number;
    owner: string | undefined;
    source: string | undefined;
    schedule: string | undefined;
    idempotencyKey: string | undefined;
    timeoutMs: number | undefined;
  }): TaskRecord {
    const { now, delay } = spec;
    const record: TaskRecord = {
      id: spec.id,
      workflow: spec.workflow,
      seq: ++this.#seq,
      status: delay > 0 ? 'scheduled' : 'queued',
      params: spec.params,
      progress: { percent: 0 },
      result: undefined,
      error: undefined,
      attempts: 0,
      maxAttempts: spec.maxAttempts,
      backoffMs: spec.backoffMs,
      priority: spec.priority,
      owner: spec.owner,
      source: spec.source,
      schedule: spec.schedule,
      idempotencyKey: spec.idempotencyKey,
      timeoutMs: spec.timeoutMs,
      createdAt: now,
      scheduledFor: delay > 0 ? now + delay : undefined,
      startedAt: undefined,
      firstStartedAt: undefined,
      finishedAt: undefined,
      updatedAt: now,
      history: [],
      edited: false,
      logs: [],
      queueToken: 0,
      run: undefined,
    };
    this.#byId.set(record.id, record);
    this.#order.push(record);
    if (record.idempotencyKey !== undefined) this.#idempotency.set(record.idempotencyKey, record);
    this.#countSchedule(record, 1);
    this.#o.stats.move(record.workflow, undefined, record.status);
    this.#o.stats.count(record.workflow, 'created', now);
    this.#emit(record, 'created', now, { status: record.status });
    this.#queue.enqueue(record, now + delay);
    return record;
  }

  async cancel(id: string): Promise<Task> {
    const record = this.#require(id);
    if (FINAL_STATUSES.includes(record.status)) {
      throw new ConflictError('ALREADY_FINISHED', `Task ${id} is already ${record.status}`);
    }
    if (record.run) {
      const { abort, done } = record.run;
      abort.abort(CANCEL);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        done,
        new Promise((resolve) => {
          timer = setTimeout(resolve, this.#o.cancelWaitMs);
        }),
      ]);
      clearTimeout(timer);
      return toTask(record);
    }
    const wasScheduled = record.status === 'scheduled';
    this.#queue.forget(record);
    this.#finish(record, 'cancelled', Date.now());
    if (wasScheduled && record.schedule !== undefined) this.onScheduleDue(record);
    return toTask(record);
  }

  /** The task when it can be retried; NotFoundError or ConflictError NOT_RETRYABLE else. */
  requireRetryable(id: string): TaskRecord {
    const record = this.#require(id);
    if (record.status !== 'failed' && record.status !== 'cancelled') {
      throw new ConflictError(
        'NOT_RETRYABLE',
        `Only failed or cancelled tasks can be retried; task ${id} is ${record.status}`,
      );
    }
    return record;
  }

  retry(id: string): Task {
    const record = this.requireRetryable(id);
    const now = Date.now();
    this.#finished.delete(record.id);
    record.attempts = 0;
    record.progress = { percent: 0 };
    record.error = undefined;
    record.result = undefined;
    record.startedAt = undefined;
    record.finishedAt = undefined;
    this.#setStatus(record, 'queued', now);
    this.#emit(record, 'queued', now, { status: 'queued' });
    this.#queue.enqueue(record, now);
    return toTask(record);
  }

  /**
   * Retry with new (validated) params: the next attempts run with them and record them; a
   * system line in the log names the params that changed.
   */
  retryWithParams(id: string, params: Record<string, unknown>): Task {
    const record = this.#require(id);
    const previous = record.params;
    this.retry(id);
    record.params = params;
    record.edited = true;
    this.#log(record, describeParamsEdit(changedKeys(previous, params)), 'system');
    return toTask(record);
  }

  /** Finished tasks of a workflow that finished at or before `before`: counted, or removed. */
  removeFinished(workflow: string, before: number, dryRun: boolean, max: number) {
    const until = Math.min(before, Date.now());
    const matching = [...this.#finished.values()].filter(
      (r) => r.workflow === workflow && (r.finishedAt ?? 0) <= until,
    );
    if (dryRun) return { matched: matching.length, removed: 0, remaining: matching.length };
    const removing = matching.slice(0, max);
    for (const record of removing) this.#delete(record);
    return {
      matched: matching.length,
      removed: removing.length,
      remaining: matching.length - removing.length,
    };
  }

  async remove(id: string): Promise<void> {
    const record = this.#require(id);
    if (record.run) await this.cancel(id);
    if (record.run) {
      throw new ConflictError('TASK_LOCKED', `Task ${id} is still running; try again`);
    }
    const wasScheduled = record.status === 'scheduled';
    this.#delete(record);
    if (wasScheduled && record.schedule !== undefined) this.onScheduleDue(record);
  }

  /** Takes a task out of the store with a `removed` event (remove, cap, retention, schedules). */
  #delete(record: TaskRecord): void {
    if (this.#byId.get(record.id) !== record) return;
    this.#byId.delete(record.id);
    this.#finished.delete(record.id);
    if (
      record.idempotencyKey !== undefined &&
      this.#idempotency.get(record.idempotencyKey) === record
    ) {
      this.#idempotency.delete(record.idempotencyKey);
    }
    this.#countSchedule(record, -1);
    this.#o.stats.move(record.workflow, record.status, undefined);
    this.#emit(record, 'removed', Date.now(), {});
    this.#removedInOrder++;
    if (this.#removedInOrder > 1000 && this.#removedInOrder * 2 > this.#order.length) {
      this.#order = this.#order.filter((r) => this.#byId.get(r.id) === r);
      this.#removedInOrder = 0;
    }
  }

  /** Removes a schedule's waiting run (the schedule changed or went). */
  dropScheduled(record: TaskRecord): void {
    if (record.status === 'scheduled' && !record.run) this.#delete(record);
  }

  /** Finished tasks older than the retention period go; the queue loses stale entries. */
  sweep(now = Date.now()): void {
    for (const record of this.#finished.values()) {
      if ((record.finishedAt ?? now) > now - this.#o.retentionMs) break;
      this.#delete(record);
    }
    this.#queue.compact();
  }

  // ---- the runner

  #start(record: TaskRecord): void {
    const workflow = this.#o.registry.get(record.workflow);
    const now = Date.now();
    if (!workflow) {
      // Its workflow's file went away while it waited: it cannot run here.
      record.error = {
        message: `Workflow "${record.workflow}" is no longer defined`,
        code: 'UNKNOWN_WORKFLOW',
      };
      this.#finish(record, 'failed', now);
      this.#queue.release(record);
      return;
    }
    record.attempts++;
    const number = record.attempts;
    record.startedAt = now;
    record.firstStartedAt ??= now;
    const attempt: TaskAttempt = {
      number,
      workerId: MEMORY_WORKER_ID,
      startedAt: iso(now),
      outcome: 'running',
    };
    if (record.edited) attempt.params = structuredClone(record.params);
    record.history.push(attempt);
    this.#setStatus(record, 'running', now);
    this.#emit(record, 'running', now, { status: 'running' });

    const abort = new AbortController();
    const { limits } = this.#o;
    const done = runTaskAttempt({
      workflow,
      taskId: record.id,
      params: record.params,
      attempt: number,
      timeoutMs: record.timeoutMs,
      signal: abort.signal,
      limits: {
        resultBytes: limits.maxResultBytes,
        logLineBytes: limits.maxLogLineBytes,
        httpBodyBytes: limits.maxHttpBodyBytes,
      },
      log: (text, stream) => {
        this.#log(record, text, stream, number);
        return READY;
      },
      progress: async (value) => {
        if (abort.signal.aborted || this.#byId.get(record.id) !== record) return;
        const at = Date.now();
        record.progress = value;
        record.updatedAt = at;
        this.#emit(record, 'progress', at, { progress: value });
      },
    })
      .then(
        (result) => this.#succeeded(record, attempt, result),
        (err: unknown) => this.#failed(record, attempt, err),
      )
      .catch((err: unknown) =>
        this.#o.logger.error({ err, taskId: record.id }, 'memory engine: finishing a task failed'),
      )
      .finally(() => {
        record.run = undefined;
        this.#queue.release(record);
      });
    record.run = { abort, done };
  }

  #log(record: TaskRecord, text: string, stream: LogStream, attempt?: number): void {
    const line: TaskLogLine = {
      ts: new Date().toISOString(),
      stream,
      text: truncateUtf8(text, this.#o.limits.maxLogLineBytes),
    };
    if (attempt !== undefined) line.attempt = attempt;
    record.logs.push(line);
    // Trimmed in steps, not one shift per line.
    const keep = this.#o.limits.maxLogLines;
    if (record.logs.length > keep + Math.max(64, keep >> 2)) {
      record.logs.splice(0, record.logs.length - keep);
    }
  }

  #endAttempt(attempt: TaskAttempt, outcome: TaskAttempt['outcome'], now: number): void {
    attempt.outcome = outcome;
    attempt.finishedAt = iso(now);
    attempt.durationMs = Math.max(0, now - Date.parse(attempt.startedAt));
  }

  #succeeded(record: TaskRecord, attempt: TaskAttempt, result: unknown): void {
    if (this.#byId.get(record.id) !== record) return;
    const now = Date.now();
    this.#endAttempt(attempt, 'completed', now);
    record.result = result;
    record.progress = { percent: 100 };
    record.error = undefined;
    this.#finish(record, 'completed', now);
  }

  #failed(record: TaskRecord, attempt: TaskAttempt, err: unknown): void {
    if (this.#byId.get(record.id) !== record) return;
    const now = Date.now();
    if (err instanceof AttemptAborted) {
      if (err.reason === SHUTDOWN) {
        this.#endAttempt(attempt, 'released', now);
        return;
      }
      this.#log(record, 'Cancelled', 'system', attempt.number);
      this.#endAttempt(attempt, 'cancelled', now);
      this.#finish(record, 'cancelled', now);
      return;
    }
    const error: TaskError = { message: err instanceof Error ? err.message : String(err) };
    if (err instanceof TaskFailure) error.code = err.code;
    this.#endAttempt(attempt, 'failed', now);
    attempt.error = { ...error };
    if (err instanceof Error && err.stack) error.stack = err.stack;
    record.error = error;
    if (record.attempts < record.maxAttempts) {
      // BullMQ's exponential backoff: the first retry waits backoffMs, each next one twice as long.
      const delay = Math.round(2 ** (record.attempts - 1) * record.backoffMs);
      this.#setStatus(record, 'queued', now);
      this.#emit(record, 'queued', now, { status: 'queued' });
      this.#queue.enqueue(record, now + delay);
      return;
    }
    this.#finish(record, 'failed', now);
  }

  /** Ends a task: its status, counters, event, the finished list and its cap. */
  #finish(record: TaskRecord, outcome: 'completed' | 'failed' | 'cancelled', now: number): void {
    const durationMs =
      record.startedAt === undefined || record.status !== 'running'
        ? undefined
        : now - record.startedAt;
    if (outcome === 'cancelled') record.error = undefined;
    record.finishedAt = now;
    this.#setStatus(record, outcome, now);
    this.#o.stats.count(record.workflow, outcome, now);
    const extra: Partial<TaskEvent> = { status: outcome };
    if (outcome === 'completed') extra.progress = { percent: 100 };
    if (outcome === 'failed' && record.error) {
      const { message, code } = record.error;
      extra.error = code === undefined ? { message } : { message, code };
    }
    this.#emit(record, outcome, now, extra);
    this.#o.onFinished?.({ workflow: record.workflow, outcome, durationMs });
    this.#finished.set(record.id, record);
    for (const oldest of this.#finished.values()) {
      if (this.#finished.size <= this.#o.maxTasks) break;
      this.#delete(oldest);
    }
  }

  #setStatus(record: TaskRecord, status: TaskStatus, now: number): void {
    this.#o.stats.move(record.workflow, record.status, status);
    record.status = status;
    record.updatedAt = now;
  }

  #emit(record: TaskRecord, type: TaskEventType, now: number, extra: Partial<TaskEvent>): void {
    this.#o.events.emit({
      type,
      taskId: record.id,
      workflow: record.workflow,
      ts: iso(now),
      ...extra,
    });
  }

  /** Stops the runner: running tasks are aborted (a shell task's process group dies). */
  async close(): Promise<void> {
    this.#queue.close();
    const runs = this.#queue.running().flatMap((record) => (record.run ? [record.run] : []));
    for (const run of runs) run.abort.abort(SHUTDOWN);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(runs.map((run) => run.done)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, this.#o.cancelWaitMs);
      }),
    ]);
    clearTimeout(timer);
  }
}

function matchesText(record: TaskRecord, needle: string): boolean {
  return [record.id, record.workflow, record.owner, record.source].some((field) =>
    field?.toLowerCase().includes(needle),
  );
}

const encodeCursor = (seq: number) => Buffer.from(`memory:${seq}`).toString('base64url');

function decodeCursor(text: string): number {
  const match = /^memory:(\d{1,15})$/.exec(Buffer.from(text, 'base64url').toString());
  if (!match?.[1]) {
    throw new InvalidInputError('INVALID_CURSOR', 'The cursor is not one this API returned', [
      { path: '/cursor', message: 'is not a valid cursor' },
    ]);
  }
  return Number(match[1]);
}
