import { randomUUID } from 'node:crypto';
import {
  type CreateTask,
  FINAL_STATUSES,
  type ListTasksQuery,
  type Schedule,
  type Task,
  type TaskList,
  type TaskLogLine,
  type TaskSummary,
  type UpsertSchedule,
} from '@taskdock/shared/contract';
import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import { Job, type Queue } from 'bullmq';
import { ConflictError, InvalidInputError, NotFoundError, taskNotFound } from '../engine/errors.ts';
import type { CreateOutcome } from '../engine/task-engine.ts';
import type { WorkflowRegistry } from '../workflows/registry.ts';
import { nextRunTimes } from './cron-check.ts';
import {
  CANCEL_CHANNEL,
  CANCELLED_REASON,
  cancelKey,
  formatTaskId,
  ID_INDEX_KEY,
  INDEX_PRUNE_AFTER_MS,
  idempotencyKey,
  idIndexMember,
  leaseKey,
  OWNERS_KEY,
  ownerIndexKey,
  PAUSED_SCHEDULES_KEY,
  PREFIX,
  parseTaskId,
  QUEUE_EVENTS_MAX_LEN,
  QUEUES_KEY,
  queueKey,
  SCHEDULES_KEY,
  SOURCES_KEY,
  STATUS_OF_KEY,
  sourceIndexKey,
  statusIndexKey,
  TASK_INDEX_KEY,
  type TaskRef,
  workflowIndexKey,
} from './keys.ts';
import { createQueue } from './queues.ts';
import { defineScripts } from './scripts.ts';
import {
  ERROR_CODE_FIELD,
  hashToRecord,
  markAttempts,
  type TaskMeta,
  toTask,
  toTaskSummary,
} from './task-mapper.ts';
import { validateSchedule, validateTask, validateTasks } from './task-validation.ts';

export interface TaskServiceOptions {
  readonly redis: RedisConnection;
  readonly registry: WorkflowRegistry;
  readonly retentionDays: number;
  /** How long cancel waits for a running task's worker to confirm. */
  readonly cancelWaitMs?: number;
}

const DEFAULT_BACKOFF_MS = 1000;

/** What #read fetches and builds: a whole task, or a list's summary (its result stays in Redis). */
interface ReadShape<T extends TaskSummary> {
  readonly withResult: '1' | '0';
  readonly map: (
    queue: string,
    jobId: string,
    state: string,
    hash: Record<string, string>,
    now: number,
  ) => T;
}
const WHOLE_TASK: ReadShape<Task> = { withResult: '1', map: toTask };
const SUMMARY: ReadShape<TaskSummary> = { withResult: '0', map: toTaskSummary };
const LIST_SCAN_BATCH = 200;
/** A filtered page reads at most this many index entries, then returns a cursor to go on. */
const LIST_SCAN_BUDGET = 5000;
/** How long a search's short-lived indexes live (each read makes its own). */
const SEARCH_TTL_MS = 30_000;
/** Tasks an id prefix finds at most (a longer prefix finds fewer). */
const SEARCH_MAX_ID_HITS = 1000;

/** The task engine's API side: create, read, list, cancel, retry and delete tasks in BullMQ. */
export class TaskService {
  readonly #redis: RedisConnection;
  readonly #registry: WorkflowRegistry;
  readonly #retentionMs: number;
  readonly #cancelWaitMs: number;
  readonly #queues = new Map<string, Queue>();
  /** Queues seen in QUEUES_KEY (a queue, once known, stays so). */
  readonly #knownQueues = new Set<string>();

  constructor(options: TaskServiceOptions) {
    this.#redis = defineScripts(options.redis);
    this.#registry = options.registry;
    this.#retentionMs = options.retentionDays * 86_400_000;
    this.#cancelWaitMs = options.cancelWaitMs ?? 10_000;
  }

  #queue(name: string): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = createQueue(name, this.#redis);
      this.#queues.set(name, queue);
    }
    return queue;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
  }

  async create(input: CreateTask): Promise<CreateOutcome> {
    const params = validateTask(this.#registry, input);
    return this.#add(input, params);
  }

  /** All or nothing at validation: one bad item rejects the batch before anything is queued. */
  async createMany(inputs: readonly CreateTask[]): Promise<CreateOutcome[]> {
    const checked = validateTasks(this.#registry, inputs);
    return Promise.all(inputs.map((input, i) => this.#add(input, checked[i] ?? {})));
  }

  async #add(input: CreateTask, params: Record<string, unknown>): Promise<CreateOutcome> {
    const jobId = randomUUID();
    const taskId = formatTaskId(input.workflow, jobId);
    if (input.idempotencyKey !== undefined) {
      const earlier = await this.#claimIdempotencyKey(input.idempotencyKey, taskId);
      if (earlier) return { task: earlier, created: false };
    }
    const meta: TaskMeta = {};
    if (input.owner !== undefined) meta.owner = input.owner;
    if (input.source !== undefined) meta.source = input.source;
    if (input.idempotencyKey !== undefined) meta.idempotencyKey = input.idempotencyKey;
    // What the request leaves out, the workflow's definition may set (workflow files do).
    const defaults = this.#registry.get(input.workflow)?.taskDefaults ?? {};
    const timeoutMs = input.timeoutMs ?? defaults.timeoutMs;
    if (timeoutMs !== undefined) meta.timeoutMs = timeoutMs;
    const delay =
      input.runAt !== undefined
        ? Math.max(0, Date.parse(input.runAt) - Date.now())
        : (input.delayMs ?? 0);
    const createdAt = Date.now();
    // Indexed first: a crash before the add leaves entries that lists prune, never a lost task.
    // The event relay keeps the status index current from here on.
    const status = delay > 0 ? 'scheduled' : 'queued';
    const indexed = this.#redis.taskdockIndexNewTask(
      PREFIX,
      taskId,
      input.workflow,
      status,
      createdAt,
      input.owner ?? '',
      input.source ?? '',
      idIndexMember({ queue: input.workflow, jobId }),
    );
    // Sent before the add on the same connection, so Redis applies it first; one round trip.
    const added = this.#queue(input.workflow).add(input.workflow, params, {
      jobId,
      timestamp: createdAt,
      attempts: input.maxAttempts ?? defaults.maxAttempts ?? 1,
      backoff: {
        type: defaults.backoff?.type ?? 'exponential',
        delay: input.backoffMs ?? defaults.backoff?.delayMs ?? DEFAULT_BACKOFF_MS,
      },
      ...(input.priority ? { priority: input.priority } : {}),
      ...(delay > 0 ? { delay } : {}),
      // Unknown job options are kept by BullMQ as they are: the metadata rides beside the data.
      ...({ taskdock: meta } as object),
    });
    const [, job] = await Promise.all([indexed, added]);
    const raw = job.asJSON() as unknown as Record<string, unknown>;
    const hash = Object.fromEntries(
      Object.entries(raw).flatMap(([k, v]) =>
        v === undefined ? [] : [[k, typeof v === 'object' ? JSON.stringify(v) : String(v)]],
      ),
    );
    return {
      task: toTask(input.workflow, jobId, delay > 0 ? 'delayed' : 'waiting', hash),
      created: true,
    };
  }

  /** Returns the earlier task for this key, or null when this call owns the key now. */
  async #claimIdempotencyKey(key: string, taskId: string): Promise<Task | null> {
    const redisKey = idempotencyKey(key);
    const ttlSeconds = Math.ceil(this.#retentionMs / 1000);
    for (let i = 0; i < 3; i++) {
      if (await this.#redis.set(redisKey, taskId, 'EX', ttlSeconds, 'NX')) return null;
      const earlierId = await this.#redis.get(redisKey);
      const earlier = earlierId ? await this.get(earlierId) : null;
      if (earlier) return earlier;
      // The earlier task is gone (deleted or expired): the key is free again.
      await this.#redis.del(redisKey);
    }
    throw new ConflictError('IDEMPOTENCY_CONFLICT', `Idempotency key "${key}" is contended`);
  }

  /**
   * The queue and job an id names, or null when it names no task: not a task id's shape (see
   * parseTaskId), or a queue that is neither a workflow nor one a producer made (QUEUES_KEY).
   */
  async taskRef(id: string): Promise<TaskRef | null> {
    const ref = parseTaskId(id);
    if (!ref) return null;
    if (this.#registry.get(ref.queue) || this.#knownQueues.has(ref.queue)) return ref;
    if ((await this.#redis.sismember(QUEUES_KEY, ref.queue)) !== 1) return null;
    this.#knownQueues.add(ref.queue);
    return ref;
  }

  async get(id: string): Promise<Task | null> {
    const ref = await this.taskRef(id);
    if (!ref) return null;
    const [task] = await this.#read([ref], WHOLE_TASK);
    return task ?? null;
  }

  async #require(id: string): Promise<Task> {
    const task = await this.get(id);
    if (!task) throw taskNotFound(id);
    return task;
  }

  /** Reads tasks in one script call per queue; a missing job gives null at its place. */
  async #read<T extends TaskSummary>(
    refs: readonly TaskRef[],
    shape: ReadShape<T>,
  ): Promise<(T | null)[]> {
    const byQueue = new Map<string, number[]>();
    refs.forEach((ref, i) => {
      const list = byQueue.get(ref.queue) ?? [];
      list.push(i);
      byQueue.set(ref.queue, list);
    });
    const out: (T | null)[] = refs.map(() => null);
    const now = Date.now();
    await Promise.all(
      [...byQueue].map(async ([queue, indexes]) => {
        const ids = indexes.map((i) => (refs[i] as TaskRef).jobId);
        const rows = await this.#redis.taskdockGetJobs(queueKey(queue), shape.withResult, ...ids);
        rows.forEach(([state, flat], k) => {
          if (state === 'missing') return;
          out[indexes[k] as number] = shape.map(
            queue,
            ids[k] as string,
            state,
            hashToRecord(flat),
            now,
          );
        });
      }),
    );
    return out;
  }

  async list(query: ListTasksQuery): Promise<TaskList> {
    const limit = query.limit ?? 50;
    const needle = query.q?.toLowerCase();
    let cursor = query.cursor === undefined ? null : decodeCursor(query.cursor);
    const keys = query.q === undefined ? [this.#indexFor(query)] : await this.#searchIndexes(query);
    // When the index alone answers the query, read one page; else read wider and filter.
    const exact =
      query.q === undefined &&
      (query.owner === undefined || (query.status === undefined && query.workflow === undefined));
    const batchSize = exact ? limit : LIST_SCAN_BATCH;
    const items: TaskSummary[] = [];
    let scanned = 0;
    for (;;) {
      const batch = await mergedIndexPage(this.#redis, keys, cursor, batchSize);
      if (batch.length === 0) return { items, nextCursor: null };
      const tasks = await this.#read(
        batch.map((entry) => entry.ref),
        SUMMARY,
      );
      for (const [i, entry] of batch.entries()) {
        cursor = entry;
        scanned++;
        const task = tasks[i];
        if (!task) {
          if (Date.now() - entry.score > INDEX_PRUNE_AFTER_MS) {
            await this.#redis.zrem(TASK_INDEX_KEY, entry.id);
          }
          continue;
        }
        // The indexes narrow the search; the task as read now decides.
        if (query.status !== undefined && task.status !== query.status) continue;
        if (query.workflow !== undefined && task.workflow !== query.workflow) continue;
        if (query.owner !== undefined && task.owner !== query.owner) continue;
        if (needle !== undefined && !matchesText(task, needle)) continue;
        items.push(task);
        if (items.length === limit) return { items, nextCursor: encodeCursor(entry) };
      }
      if (batch.length < batchSize) return { items, nextCursor: null };
      // A page with something on it may stop early; an empty one reads on (never empty + cursor).
      if (scanned >= LIST_SCAN_BUDGET && items.length > 0 && cursor) {
        return { items, nextCursor: encodeCursor(cursor) };
      }
    }
  }

  /** The narrowest index that holds every task the filters can match. */
  #indexFor(query: Omit<ListTasksQuery, 'q'>): string {
    if (query.owner !== undefined) return ownerIndexKey(query.owner);
    if (query.status !== undefined) return statusIndexKey(query.status, query.workflow);
    if (query.workflow !== undefined) return workflowIndexKey(query.workflow);
    return TASK_INDEX_KEY;
  }

  /**
   * `a ∩ b` as a short-lived index of this one read (a cached one would miss the tasks whose
   * status changed since it was made).
   */
  async #intersection(a: string, b: string): Promise<string> {
    const key = `${PREFIX}:tmp:and:${randomUUID()}`;
    await this.#redis
      .multi()
      .zinterstore(key, 2, a, b, 'AGGREGATE', 'MAX')
      .pexpire(key, SEARCH_TTL_MS)
      .exec();
    return key;
  }

  /**
   * Indexes of every task `q` can match, narrowed by the other filters: the tasks whose job id
   * (or `<workflow>:<job id>`) starts with `q`, and those of every workflow, owner or source
   * whose name holds `q` (each name has an index of its own; with a status, its status index).
   */
  async #searchIndexes(query: ListTasksQuery): Promise<string[]> {
    const q = query.q as string;
    const needle = q.toLowerCase();
    const [queues, owners, sources] = await Promise.all([
      this.#redis.smembers(QUEUES_KEY),
      this.#redis.smembers(OWNERS_KEY),
      this.#redis.smembers(SOURCES_KEY),
    ]);
    const has = (name: string) => name.toLowerCase().includes(needle);
    const narrowed = (index: string) =>
      query.status === undefined ? index : this.#intersection(index, statusIndexKey(query.status));
    const keys = await Promise.all([
      ...queues
        .filter((queue) => has(queue) && (query.workflow ?? queue) === queue)
        .map((queue) =>
          query.status === undefined
            ? workflowIndexKey(queue)
            : statusIndexKey(query.status, queue),
        ),
      ...owners
        .filter((owner) => has(owner) && (query.owner ?? owner) === owner)
        .map((owner) => narrowed(ownerIndexKey(owner))),
      ...sources.filter(has).map((source) => narrowed(sourceIndexKey(source))),
    ]);
    const ids = await this.#idPrefixIndex(q, queues, query);
    if (ids) keys.push(ids);
    return [...new Set(keys)];
  }

  /**
   * The tasks whose job id starts with `q` (case-insensitive), or, for `q` = `<workflow>:<rest>`,
   * the tasks of that workflow whose job id starts with `rest`: as a short-lived index, scored
   * by creation time like the others. At most SEARCH_MAX_ID_HITS (a longer prefix narrows it).
   */
  async #idPrefixIndex(
    q: string,
    queues: readonly string[],
    query: ListTasksQuery,
  ): Promise<string | null> {
    const colon = q.indexOf(':');
    const prefixes = [{ jobPrefix: q, queue: query.workflow }];
    const inQueue = colon > 0 ? q.slice(0, colon) : undefined;
    if (
      inQueue !== undefined &&
      queues.includes(inQueue) &&
      (query.workflow ?? inQueue) === inQueue
    ) {
      prefixes.push({ jobPrefix: q.slice(colon + 1), queue: inQueue });
    }
    const found = new Set<string>();
    for (const { jobPrefix, queue } of prefixes) {
      const start = jobPrefix.toLowerCase();
      const members = await this.#redis.zrangebylex(
        ID_INDEX_KEY,
        `[${start}`,
        `[${start}\u{10FFFF}`,
        'LIMIT',
        0,
        SEARCH_MAX_ID_HITS,
      );
      for (const member of members) {
        const taskId = member.slice(member.indexOf('\n') + 1);
        if (queue === undefined || taskId.startsWith(`${queue}:`)) found.add(taskId);
      }
    }
    if (found.size === 0) return null;
    const ids = [...found];
    const [scores, statuses] = await Promise.all([
      this.#redis.zmscore(TASK_INDEX_KEY, ...ids),
      query.status === undefined ? null : this.#redis.hmget(STATUS_OF_KEY, ...ids),
    ]);
    const hits = ids.flatMap((id, i) =>
      scores[i] === null || (statuses !== null && statuses[i] !== query.status)
        ? []
        : [String(scores[i]), id],
    );
    if (hits.length === 0) return null;
    const key = `${PREFIX}:tmp:ids:${randomUUID()}`;
    await this.#redis
      .multi()
      .zadd(key, ...hits)
      .pexpire(key, SEARCH_TTL_MS)
      .exec();
    return key;
  }

  async cancel(id: string): Promise<Task> {
    const task = await this.#require(id);
    if (FINAL_STATUSES.includes(task.status)) {
      throw new ConflictError('ALREADY_FINISHED', `Task ${id} is already ${task.status}`);
    }
    const ref = parseTaskId(id) as TaskRef;
    const cancelled = await this.#redis.taskdockCancelQueued(
      queueKey(ref.queue),
      ref.jobId,
      CANCELLED_REASON,
      QUEUE_EVENTS_MAX_LEN,
    );
    if (cancelled === 1) return this.#require(id);
    // A worker holds it: tell every worker; the holder aborts it. The key covers a worker that
    // is picking the task up right now and has not subscribed to its signal yet.
    await this.#redis
      .multi()
      .set(cancelKey(id), '1', 'PX', Math.max(this.#retentionMs, 60_000))
      .publish(CANCEL_CHANNEL, id)
      .exec();
    // A remote worker learns of it at its next heartbeat, seconds away (docs/remote-workers.md):
    // the answer does not wait for that; the end comes as an event.
    if (await this.#heldByLease(ref)) return this.#require(id);
    return this.#waitUntilFinal(id);
  }

  /** Whether a remote worker's lease holds the task: its BullMQ lock token is a lease id. */
  async #heldByLease(ref: TaskRef): Promise<boolean> {
    const lock = await this.#redis.get(`${queueKey(ref.queue)}${ref.jobId}:lock`);
    return lock !== null && (await this.#redis.exists(leaseKey(lock))) === 1;
  }

  async #waitUntilFinal(id: string): Promise<Task> {
    const deadline = Date.now() + this.#cancelWaitMs;
    for (;;) {
      const task = await this.#require(id);
      if (FINAL_STATUSES.includes(task.status) || Date.now() > deadline) return task;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async retry(id: string): Promise<Task> {
    const task = await this.#require(id);
    if (task.status !== 'failed' && task.status !== 'cancelled') {
      throw new ConflictError(
        'NOT_RETRYABLE',
        `Only failed or cancelled tasks can be retried; task ${id} is ${task.status}`,
      );
    }
    const ref = parseTaskId(id) as TaskRef;
    const job = await Job.fromId(this.#queue(ref.queue), ref.jobId);
    if (!job) throw taskNotFound(id);
    await this.#redis
      .multi()
      .del(cancelKey(id))
      .hdel(`${queueKey(ref.queue)}${ref.jobId}`, ERROR_CODE_FIELD)
      .exec();
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return this.#require(id);
  }

  async remove(id: string): Promise<void> {
    const task = await this.#require(id);
    const ref = parseTaskId(id) as TaskRef;
    if (task.status === 'running') await this.cancel(id);
    const removed = await this.#queue(ref.queue).remove(ref.jobId);
    if (removed !== 1 && (await this.get(id))) {
      throw new ConflictError('TASK_LOCKED', `Task ${id} is still held by a worker; try again`);
    }
    await this.#redis.multi().zrem(TASK_INDEX_KEY, id).del(cancelKey(id)).exec();
  }

  async logs(id: string, limit = 1000): Promise<TaskLogLine[]> {
    const task = await this.#require(id);
    const ref = parseTaskId(id) as TaskRef;
    const raw = await this.#redis.lrange(`${queueKey(ref.queue)}${ref.jobId}:logs`, -limit, -1);
    return markAttempts(
      raw.map((line) => parseLogLine(line, task.updatedAt)),
      task.attemptHistory ?? [],
    );
  }

  /**
   * Creates or replaces a cron schedule (a BullMQ job scheduler) that creates tasks. A paused
   * schedule stays paused: only its stored definition changes.
   */
  async upsertSchedule(name: string, input: UpsertSchedule): Promise<Schedule> {
    const definition: ScheduleDefinition = {
      workflow: input.workflow,
      pattern: input.pattern,
      params: validateSchedule(this.#registry, input),
      ...(input.tz ? { tz: input.tz } : {}),
      ...(input.owner !== undefined ? { owner: input.owner } : {}),
    };
    const [previous, paused] = await Promise.all([
      this.#redis.hget(SCHEDULES_KEY, name),
      this.#redis.hexists(PAUSED_SCHEDULES_KEY, name),
    ]);
    if (paused) {
      await this.#redis.hset(PAUSED_SCHEDULES_KEY, name, JSON.stringify(definition));
    } else {
      await this.#startSchedule(name, definition);
    }
    if (previous && previous !== input.workflow) {
      await this.#queue(previous).removeJobScheduler(name);
    }
    await this.#redis.hset(SCHEDULES_KEY, name, input.workflow);
    return this.#requireSchedule(name);
  }

  async #startSchedule(name: string, definition: ScheduleDefinition): Promise<void> {
    const meta: TaskMeta = { source: `schedule:${name}` };
    if (definition.owner !== undefined) meta.owner = definition.owner;
    try {
      await this.#queue(definition.workflow).upsertJobScheduler(
        name,
        { pattern: definition.pattern, ...(definition.tz ? { tz: definition.tz } : {}) },
        { name: definition.workflow, data: definition.params, opts: { taskdock: meta } as object },
      );
    } catch (err) {
      const message = (err as Error).message;
      throw new InvalidInputError('INVALID_SCHEDULE', `Invalid schedule: ${message}`, [
        { path: '/pattern', message },
      ]);
    }
  }

  async listSchedules(): Promise<Schedule[]> {
    const [entries, paused] = await Promise.all([
      this.#redis.hgetall(SCHEDULES_KEY),
      this.#redis.hgetall(PAUSED_SCHEDULES_KEY),
    ]);
    const schedules = await Promise.all(
      Object.entries(entries).map(([name, wf]) => this.#readSchedule(name, wf, paused[name])),
    );
    return schedules
      .filter((s): s is Schedule => s !== null)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Removes its job scheduler (and the run it had queued), keeping the definition. */
  async pauseSchedule(name: string): Promise<Schedule> {
    const schedule = await this.#requireSchedule(name);
    if (!schedule.paused) {
      await this.#redis.hset(PAUSED_SCHEDULES_KEY, name, JSON.stringify(definitionOf(schedule)));
      await this.#queue(schedule.workflow).removeJobScheduler(name);
    }
    return this.#requireSchedule(name);
  }

  /** Makes the job scheduler again: the next run is the pattern's next time from now. */
  async resumeSchedule(name: string): Promise<Schedule> {
    const schedule = await this.#requireSchedule(name);
    if (schedule.paused) {
      await this.#startSchedule(name, definitionOf(schedule));
      await this.#redis.hdel(PAUSED_SCHEDULES_KEY, name);
    }
    return this.#requireSchedule(name);
  }

  async removeSchedule(name: string): Promise<void> {
    const workflow = await this.#redis.hget(SCHEDULES_KEY, name);
    if (!workflow) throw new NotFoundError(`No schedule named "${name}"`);
    await this.#queue(workflow).removeJobScheduler(name);
    await this.#redis.multi().hdel(SCHEDULES_KEY, name).hdel(PAUSED_SCHEDULES_KEY, name).exec();
  }

  async #requireSchedule(name: string): Promise<Schedule> {
    const [workflow, paused] = await Promise.all([
      this.#redis.hget(SCHEDULES_KEY, name),
      this.#redis.hget(PAUSED_SCHEDULES_KEY, name),
    ]);
    const schedule = workflow ? await this.#readSchedule(name, workflow, paused) : null;
    if (!schedule) throw new NotFoundError(`No schedule named "${name}"`);
    return schedule;
  }

  /** From the paused definition, else from BullMQ's job scheduler; with its last run. */
  async #readSchedule(
    name: string,
    workflow: string,
    pausedDefinition: string | null | undefined,
  ): Promise<Schedule | null> {
    let definition: ScheduleDefinition;
    let nextRunAt: number | undefined;
    if (pausedDefinition) {
      definition = JSON.parse(pausedDefinition) as ScheduleDefinition;
    } else {
      const raw = await this.#queue(workflow).getJobScheduler(name);
      if (!raw?.pattern) return null;
      const owner = (raw.template?.opts as { taskdock?: TaskMeta } | undefined)?.taskdock?.owner;
      definition = {
        workflow,
        pattern: raw.pattern,
        params: (raw.template?.data ?? {}) as Record<string, unknown>,
        ...(raw.tz ? { tz: raw.tz } : {}),
        ...(owner !== undefined ? { owner } : {}),
      };
      nextRunAt = raw.next ?? undefined;
    }
    const tasks = sourceIndexKey(`schedule:${name}`);
    const [taskCount, newest] = await Promise.all([
      this.#redis.zcard(tasks),
      // The newest is the run waiting for its time; one more covers a removed entry.
      this.#redis.zrevrange(tasks, 0, 2),
    ]);
    const refs = newest.flatMap((id) => parseTaskId(id) ?? []);
    const last = (await this.#read(refs, SUMMARY)).find((t) => t && t.status !== 'scheduled');
    const schedule: Schedule = {
      id: name,
      ...definition,
      paused: Boolean(pausedDefinition),
      nextRuns: pausedDefinition
        ? []
        : nextRunTimes(definition.pattern, definition.tz).map((t) => new Date(t).toISOString()),
      taskCount,
    };
    if (nextRunAt !== undefined) schedule.nextRunAt = new Date(nextRunAt).toISOString();
    if (last) {
      schedule.lastRun = { taskId: last.id, status: last.status, createdAt: last.createdAt };
      if (last.finishedAt) schedule.lastRun.finishedAt = last.finishedAt;
      if (last.error) schedule.lastRun.error = last.error.message;
    }
    return schedule;
  }
}

/** What a schedule makes, as kept while it is paused (BullMQ holds it while it is active). */
interface ScheduleDefinition {
  readonly workflow: string;
  readonly pattern: string;
  readonly tz?: string;
  readonly params: Record<string, unknown>;
  readonly owner?: string;
}

const definitionOf = (s: Schedule): ScheduleDefinition => ({
  workflow: s.workflow,
  pattern: s.pattern,
  params: s.params as Record<string, unknown>,
  ...(s.tz ? { tz: s.tz } : {}),
  ...(s.owner !== undefined ? { owner: s.owner } : {}),
});

interface Cursor {
  score: number;
  id: string;
}

interface IndexEntry extends Cursor {
  ref: TaskRef;
}

/** Entries strictly after the cursor in one index, newest first (ties: id descending). */
async function indexPage(
  redis: RedisConnection,
  key: string,
  cursor: Cursor | null,
  count: number,
): Promise<IndexEntry[]> {
  const max = cursor === null ? '+inf' : String(cursor.score);
  const entries: IndexEntry[] = [];
  for (let offset = 0; ; offset += count) {
    const flat = await redis.zrevrangebyscore(
      key,
      max,
      '-inf',
      'WITHSCORES',
      'LIMIT',
      offset,
      count,
    );
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const id = flat[i] as string;
      const score = Number(flat[i + 1]);
      if (cursor !== null && score === cursor.score && id >= cursor.id) continue;
      const ref = parseTaskId(id);
      if (ref) entries.push({ id, score, ref });
    }
    // Tasks created in the cursor's millisecond were skipped: read on until the page is full.
    if (entries.length >= count || flat.length < count * 2) return entries.slice(0, count);
  }
}

const newestFirst = (a: Cursor, b: Cursor) =>
  b.score - a.score || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** The next `count` entries after the cursor across several indexes, without repeats. */
async function mergedIndexPage(
  redis: RedisConnection,
  keys: readonly string[],
  cursor: Cursor | null,
  count: number,
): Promise<IndexEntry[]> {
  if (keys.length === 1) return indexPage(redis, keys[0] as string, cursor, count);
  const pages = await Promise.all(keys.map((key) => indexPage(redis, key, cursor, count)));
  const seen = new Set<string>();
  return pages
    .flat()
    .sort(newestFirst)
    .filter((entry) => !seen.has(entry.id) && seen.add(entry.id))
    .slice(0, count);
}

const encodeCursor = (c: Cursor) => Buffer.from(`${c.score}|${c.id}`).toString('base64url');

function decodeCursor(text: string): Cursor {
  const raw = Buffer.from(text, 'base64url').toString();
  const bar = raw.indexOf('|');
  const score = Number(raw.slice(0, bar));
  if (bar <= 0 || !Number.isFinite(score) || !parseTaskId(raw.slice(bar + 1))) {
    throw new InvalidInputError('INVALID_CURSOR', 'The cursor is not one this API returned', [
      { path: '/cursor', message: 'is not a valid cursor' },
    ]);
  }
  return { score, id: raw.slice(bar + 1) };
}

function matchesText(task: TaskSummary, needle: string): boolean {
  return [task.id, task.workflow, task.owner, task.source].some((field) =>
    field?.toLowerCase().includes(needle),
  );
}

/** Taskdock workers write JSON lines; a plain BullMQ `job.log()` line is shown as a system line. */
function parseLogLine(line: string, fallbackTs: string): TaskLogLine {
  try {
    const parsed = JSON.parse(line) as Partial<TaskLogLine>;
    if (typeof parsed.text === 'string' && typeof parsed.ts === 'string' && parsed.stream) {
      return { ts: parsed.ts, stream: parsed.stream, text: parsed.text };
    }
  } catch {
    // Not ours: fall through.
  }
  return { ts: fallbackTs, stream: 'system', text: line };
}
