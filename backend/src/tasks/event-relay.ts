import { randomUUID } from 'node:crypto';
import {
  type AttemptOutcome,
  isWorkflowName,
  type TaskEvent,
  type TaskEventType,
  type TaskStatus,
} from '@taskdock/shared/contract';
import {
  duplicateConnection,
  type RedisConnection,
  scanKeys,
} from '@taskdock/shared/node/redis-connection';
import type { Logger } from 'pino';
import {
  CANCELLED_REASON,
  EVENTS_MAX_LEN,
  formatTaskId,
  idIndexMember,
  PREFIX,
  parseTaskId,
  QUEUES_KEY,
  queueKey,
  RELAY_LOCK_KEY,
  RELAY_POSITIONS_KEY,
  RELEASED_EVENT,
  STARTED_EVENT,
  THROUGHPUT_BUCKET_MS,
} from './keys.ts';
import { countIndexes, type IndexCounts, lostIndexes, streamGap } from './live-state-check.ts';
import { reconcileQueue } from './reconcile.ts';
import { defineScripts } from './scripts.ts';
import {
  ERROR_CODE_FIELD,
  hashToRecord,
  parseJson,
  type TaskMeta,
  toProgress,
} from './task-mapper.ts';

/** One entry of a BullMQ queue events stream. */
export interface QueueEvent {
  readonly id: string;
  readonly fields: Record<string, string>;
}

export interface RelayOp {
  t: TaskEventType;
  id: string;
  wf: string;
  /** New status for the indexes. */
  st?: TaskStatus;
  score?: number;
  owner?: string;
  source?: string;
  count?: 'created' | 'completed' | 'failed' | 'cancelled';
  bucket?: number;
  emit: 'always' | 'changed' | 'never';
  data: string;
  /** The attempt record this event opens ('start') or closes (with its outcome). */
  att?: 'start' | Exclude<AttemptOutcome, 'running'>;
  /** Event time (ms): the attempt's start or end. */
  at?: number;
  /** The worker (BullMQ's processedBy) that started the attempt. */
  worker?: string;
  /** The task's member in the id index (created and removed). */
  lex?: string;
  /** The failure that closes a failed attempt. */
  err?: { message: string; code?: string };
}

export interface FinishedTask {
  readonly workflow: string;
  readonly outcome: 'completed' | 'failed' | 'cancelled';
  readonly durationMs: number | undefined;
}

const streamTime = (id: string) => Number(id.split('-')[0]);

/** Events whose op reads the job (creation time, options, timings, error code). */
const NEEDS_JOB_FIELDS = new Set([
  'added',
  'active',
  STARTED_EVENT,
  'delayed',
  'waiting',
  'completed',
  'failed',
]);
const JOB_FIELDS = [
  'timestamp',
  'opts',
  'ats',
  'processedOn',
  'finishedOn',
  'failedReason',
  'pb',
  ERROR_CODE_FIELD,
] as const;

/**
 * Translates one BullMQ event into what the relay applies. `hash` is the job's current hash
 * (empty when the job is gone); null for events that change nothing a user sees.
 */
export function toRelayOp(
  queue: string,
  event: QueueEvent,
  hash: Record<string, string>,
): RelayOp | null {
  const { fields } = event;
  const jobId = fields.jobId;
  // A job whose id no task id can name (a plain producer's odd custom id) is not Taskdock's.
  if (!jobId || !parseTaskId(formatTaskId(queue, jobId))) return null;
  const ts = streamTime(event.id);
  const opts = (parseJson(hash.opts) ?? {}) as { delay?: number; taskdock?: TaskMeta };
  const meta = opts.taskdock ?? {};
  const started = Number(hash.ats ?? 0) > 0 || hash.processedOn !== undefined;
  const op = (
    t: TaskEventType,
    st: TaskStatus | undefined,
    emit: RelayOp['emit'],
    extra: Partial<TaskEvent> = {},
  ): RelayOp => {
    const taskId = formatTaskId(queue, jobId);
    const body: TaskEvent = {
      type: t,
      taskId,
      workflow: queue,
      ts: new Date(ts).toISOString(),
      ...extra,
    };
    if (st) body.status = st;
    const result: RelayOp = { t, id: taskId, wf: queue, emit, data: JSON.stringify(body) };
    if (st) result.st = st;
    if (hash.timestamp) result.score = Number(hash.timestamp);
    if (meta.owner !== undefined) result.owner = meta.owner;
    if (meta.source !== undefined) result.source = meta.source;
    return result;
  };
  /** Closes the open attempt (if any) of a task going back to wait after a run: a counted failure. */
  const retried = (base: RelayOp): RelayOp => ({
    ...base,
    att: 'failed',
    at: ts,
    err: errorOf(hash.failedReason ?? '', hash),
  });
  const starts = (base: RelayOp): RelayOp => {
    const started: RelayOp = { ...base, att: 'start', at: ts };
    if (hash.pb) started.worker = hash.pb;
    return started;
  };
  switch (fields.event) {
    case 'added': {
      const created = op('created', (opts.delay ?? 0) > 0 ? 'scheduled' : 'queued', 'always');
      return { ...created, count: 'created', lex: idIndexMember({ queue, jobId }) };
    }
    case 'waiting': {
      // Without `prev` it is the second half of an add; with it, the task went back to waiting.
      if (!fields.prev) return null;
      const queued = op('queued', 'queued', 'changed');
      // From active: a retry (a stall or a release closed its attempt before, so this is a no-op).
      return fields.prev === 'active' ? retried(queued) : queued;
    }
    case 'delayed':
      // A delayed add is the scheduled status set at creation; later ones are backoffs or waits
      // (an owner's slot wait comes before its attempt starts, so it closes none).
      return started ? retried(op('queued', 'queued', 'changed')) : null;
    // A task with an owner may go back to wait for a slot: it runs when the worker says so.
    case 'active':
      return meta.owner === undefined ? starts(op('running', 'running', 'always')) : null;
    case STARTED_EVENT:
      return meta.owner === undefined ? null : starts(op('running', 'running', 'always'));
    // BullMQ sent `waiting` (prev active) just before, in the same script: that closed the
    // attempt as failed at this very millisecond, which the batch script corrects to stalled.
    case 'stalled':
      return { ...op('queued', undefined, 'never'), att: 'stalled', at: ts };
    case RELEASED_EVENT:
      return { ...op('queued', undefined, 'never'), att: 'released', at: ts };
    case 'progress':
      return op('progress', undefined, 'always', { progress: toProgress(parseJson(fields.data)) });
    case 'completed': {
      const done = op('completed', 'completed', 'always', { progress: { percent: 100 } });
      const bucket = Math.floor(ts / THROUGHPUT_BUCKET_MS);
      return { ...done, count: 'completed', bucket, att: 'completed', at: ts };
    }
    case 'failed': {
      const cancelled = fields.failedReason === CANCELLED_REASON;
      const err = errorOf(fields.failedReason ?? '', hash);
      const outcome = cancelled ? 'cancelled' : 'failed';
      const failed = op(outcome, outcome, 'always', cancelled ? {} : { error: err });
      const bucket = Math.floor(ts / THROUGHPUT_BUCKET_MS);
      const closed: RelayOp = { ...failed, count: outcome, bucket, att: outcome, at: ts };
      if (!cancelled) closed.err = err;
      return closed;
    }
    case 'removed':
      return { ...op('removed', undefined, 'always'), lex: idIndexMember({ queue, jobId }) };
    default:
      return null;
  }
}

function errorOf(message: string, hash: Record<string, string>) {
  const code = hash[ERROR_CODE_FIELD];
  return code ? { message, code } : { message };
}

const countsOf = (counts: IndexCounts, queue: string) =>
  JSON.stringify([counts.jobs[queue], counts.perQueue[queue]]);

/**
 * Within one batch only a task's last status needs indexing: earlier moves (created → running →
 * completed) are dropped, their events still sent. `queued` ops keep theirs: they are sent only
 * when the status really changed, which the index tells.
 */
export function coalesceIndexMoves(ops: RelayOp[]): void {
  const last = new Map<string, number>();
  ops.forEach((op, i) => {
    if (op.st !== undefined || op.t === 'removed') last.set(op.id, i);
  });
  ops.forEach((op, i) => {
    if (op.st !== undefined && op.emit === 'always' && last.get(op.id) !== i) delete op.st;
  });
}

export interface EventRelayOptions {
  readonly redis: RedisConnection;
  /** Queues to follow from the start; others are found as producers create them. */
  readonly queues: readonly string[];
  readonly logger: Logger;
  readonly onFinished?: (task: FinishedTask) => void;
}

const DISCOVER_EVERY_MS = 5_000;
const SCAN_EVERY_MS = 5 * 60_000;
/** Events per batch: a batch is one Lua call, and Redis serves nobody else while it runs. */
const BATCH_EVENTS = 250;
const BUSY_BATCH = 100;
const BUSY_PAUSE_MS = 20;
const LOCK_MS = 15_000;
/** How often the leader checks for trimmed streams and lost indexes. */
const CHECK_EVERY_MS = 5_000;

/**
 * Follows every queue's BullMQ event stream and turns it into Taskdock's state: status
 * indexes, persisted counters and one resumable event stream. One relay leads (a Redis lock);
 * each batch lands atomically with the stream positions it read up to, so a crash or a second
 * relay never applies an event twice and never skips one.
 */
export class EventRelay {
  readonly #redis: RedisConnection;
  readonly #blocking: RedisConnection;
  readonly #logger: Logger;
  readonly #onFinished: ((task: FinishedTask) => void) | undefined;
  readonly #queues = new Set<string>();
  readonly #id = randomUUID();
  #positions = new Map<string, string>();
  #running = false;
  #loop: Promise<void> | undefined;
  #lastDiscovery = 0;
  #lastScan = 0;
  #lastCheck = 0;
  #lastCounts: IndexCounts | undefined;
  /** Per queue, the counts left after its last repair: a disagreement that no repair can end. */
  readonly #afterRepair = new Map<string, string>();
  /** Per queue, the trimmed position already repaired. */
  readonly #repairedGap = new Map<string, string>();

  constructor(options: EventRelayOptions) {
    this.#redis = defineScripts(options.redis);
    this.#blocking = duplicateConnection(options.redis, { connectionName: 'taskdock-relay' });
    this.#blocking.on('error', () => {});
    this.#logger = options.logger;
    this.#onFinished = options.onFinished;
    for (const queue of options.queues) this.#queues.add(queue);
  }

  /** Follows these queues too from the next batch on (remote workflows declared just now). */
  follow(queues: readonly string[]): void {
    for (const queue of queues) this.#queues.add(queue);
    this.#lastDiscovery = 0;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#blocking.disconnect();
    await this.#loop;
    await this.#redis
      .eval(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
        1,
        RELAY_LOCK_KEY,
        this.#id,
      )
      .catch(() => {});
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        if (!(await this.#holdLock())) {
          await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
        await this.#discover();
        const events = await this.#step();
        if (Date.now() - this.#lastCheck >= CHECK_EVERY_MS) {
          this.#lastCheck = Date.now();
          await this.#repairLiveState(events < BUSY_BATCH);
        }
        // Busy but keeping up: let events gather for a moment, as each batch has a fixed cost.
        // Idle: a lone event goes through at once (low end-to-end latency). Behind (a full
        // batch): no pause at all, so BullMQ does not trim events before they are read.
        if (events >= BUSY_BATCH && events < BATCH_EVENTS) {
          await new Promise((r) => setTimeout(r, BUSY_PAUSE_MS));
        }
      } catch (err) {
        if (!this.#running) return;
        this.#logger.warn({ err: (err as Error).message }, 'event relay step failed; retrying');
        this.#positions.clear();
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async #holdLock(): Promise<boolean> {
    const held = await this.#redis.eval(
      `local v = redis.call('GET', KEYS[1])
       if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
       if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
       return 0`,
      1,
      RELAY_LOCK_KEY,
      this.#id,
      LOCK_MS,
    );
    return held === 1;
  }

  async #discover(): Promise<void> {
    const now = Date.now();
    if (this.#positions.size > 0 && now - this.#lastDiscovery < DISCOVER_EVERY_MS) return;
    this.#lastDiscovery = now;
    for (const queue of await this.#redis.smembers(QUEUES_KEY)) {
      if (isWorkflowName(queue)) this.#queues.add(queue);
    }
    if (now - this.#lastScan >= SCAN_EVERY_MS) {
      this.#lastScan = now;
      void this.#scanForQueues().catch((err: Error) =>
        this.#logger.warn({ err: err.message }, 'scan for queues failed'),
      );
    }
    if (this.#queues.size > 0) await this.#redis.sadd(QUEUES_KEY, ...this.#queues);
    const queues = [...this.#queues];
    const stored = queues.length > 0 ? await this.#redis.hmget(RELAY_POSITIONS_KEY, ...queues) : [];
    this.#positions = new Map(queues.map((q, i) => [q, stored[i] ?? '0-0']));
  }

  /**
   * Gaps and lost indexes, found and put right: a queue whose stream lost events the relay had
   * not read, or whose indexes disagree with BullMQ's sets (two checks in a row, relay idle), is
   * reconciled from BullMQ's own state, and the log says what was repaired.
   */
  async #repairLiveState(idle: boolean): Promise<void> {
    const reasons = new Map<string, string>();
    for (const [queue, position] of this.#positions) {
      const gap = await streamGap(this.#redis, queue, position);
      if (gap && this.#repairedGap.get(queue) !== position) {
        reasons.set(queue, gap);
        this.#repairedGap.set(queue, position);
      }
    }
    if (idle) {
      const counts = await countIndexes(this.#redis, [...this.#positions.keys()]);
      for (const [queue, why] of lostIndexes(counts, this.#lastCounts)) {
        if (this.#afterRepair.get(queue) === countsOf(counts, queue) || reasons.has(queue))
          continue;
        reasons.set(queue, why);
      }
      this.#lastCounts = counts;
    }
    if (reasons.size === 0) return;
    for (const [queue, reason] of reasons) {
      const report = await reconcileQueue(this.#redis, queue);
      this.#logger.warn(
        { ...report, reason },
        `reconciled the indexes of ${queue} from BullMQ: ${report.added} tasks re-indexed, ` +
          `${report.corrected} statuses corrected, ${report.removed} entries of gone jobs removed` +
          (reason.includes('trimmed') || reason.includes('stream')
            ? '; totals since install miss what the lost events counted'
            : ''),
      );
    }
    const after = await countIndexes(this.#redis, [...reasons.keys()]);
    for (const queue of reasons.keys()) this.#afterRepair.set(queue, countsOf(after, queue));
    this.#lastCounts = undefined;
  }

  /** The few job fields the ops need, for the jobs whose events need any (one round trip). */
  async #readJobFields(queue: string, events: readonly QueueEvent[]) {
    const jobIds = [
      ...new Set(
        events.filter((e) => NEEDS_JOB_FIELDS.has(e.fields.event ?? '')).map((e) => e.fields.jobId),
      ),
    ].filter((id): id is string => !!id);
    const hashes = new Map<string, Record<string, string>>();
    if (jobIds.length === 0) return hashes;
    const read = this.#redis.pipeline();
    for (const id of jobIds) read.hmget(`${queueKey(queue)}${id}`, ...JOB_FIELDS);
    const rows = (await read.exec()) ?? [];
    jobIds.forEach((id, i) => {
      const values = (rows[i]?.[1] ?? []) as (string | null)[];
      const hash: Record<string, string> = {};
      JOB_FIELDS.forEach((field, k) => {
        const value = values[k];
        if (value !== null && value !== undefined) hash[field] = value;
      });
      hashes.set(id, hash);
    });
    return hashes;
  }

  /**
   * Queues a plain BullMQ producer made (each has a `<prefix>:<queue>:meta` key). SCAN walks every
   * key in Redis, so it runs seldom, in its own time: the relay goes on meanwhile.
   */
  async #scanForQueues(): Promise<void> {
    const found: string[] = [];
    for await (const keys of scanKeys(this.#redis, `${PREFIX}:*:meta`)) {
      for (const key of keys) {
        const queue = key.slice(PREFIX.length + 1, -':meta'.length);
        // `taskdock:stats:meta` would be a queue named like one of our namespaces: never one.
        if (isWorkflowName(queue) && !this.#queues.has(queue)) found.push(queue);
      }
    }
    // Picked up with the queue list at the next discovery.
    if (found.length > 0) await this.#redis.sadd(QUEUES_KEY, ...found);
  }

  /** Applies one batch; returns how many events it read. */
  async #step(): Promise<number> {
    const queues = [...this.#positions.keys()];
    if (queues.length === 0) {
      await new Promise((r) => setTimeout(r, 1000));
      return 0;
    }
    const reply = (await this.#blocking.xread(
      'COUNT',
      BATCH_EVENTS,
      'BLOCK',
      1000,
      'STREAMS',
      ...queues.map((q) => `${queueKey(q)}events`),
      ...queues.map((q) => this.#positions.get(q) as string),
    )) as [string, [string, string[]][]][] | null;
    if (!reply) return 0;
    const expect: Record<string, string> = {};
    const set: Record<string, string> = {};
    const perQueue = reply.map(([key, entries]) => {
      const queue = key.slice(PREFIX.length + 1, -':events'.length);
      expect[queue] = this.#positions.get(queue) ?? '0-0';
      set[queue] = entries.at(-1)?.[0] ?? expect[queue];
      const events = entries.map(([id, flat]) => ({ id, fields: hashToRecord(flat) }));
      return { queue, events };
    });
    const ops: RelayOp[] = [];
    const finished: FinishedTask[] = [];
    for (const { queue, events } of perQueue) {
      const hashes = await this.#readJobFields(queue, events);
      for (const event of events) {
        const hash = hashes.get(event.fields.jobId ?? '') ?? {};
        const op = toRelayOp(queue, event, hash);
        if (!op) continue;
        ops.push(op);
        if (op.count && op.count !== 'created') {
          const started = Number(hash.processedOn);
          const ended = Number(hash.finishedOn);
          finished.push({
            workflow: queue,
            outcome: op.count,
            durationMs: started && ended >= started ? ended - started : undefined,
          });
        }
      }
    }
    coalesceIndexMoves(ops);
    const applied = await this.#redis.taskdockApplyRelayBatch(
      PREFIX,
      JSON.stringify({ expect, set, maxLen: EVENTS_MAX_LEN, ops }),
    );
    if (applied !== 1) {
      // Another relay moved on meanwhile: re-read where things stand.
      this.#positions.clear();
      return 0;
    }
    for (const [queue, pos] of Object.entries(set)) this.#positions.set(queue, pos);
    if (this.#onFinished) for (const task of finished) this.#onFinished(task);
    return perQueue.reduce((sum, q) => sum + q.events.length, 0);
  }
}
