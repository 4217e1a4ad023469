import { MinHeap } from './min-heap.ts';
import type { TaskRecord } from './task-record.ts';

export interface MemoryQueueOptions {
  /** Tasks running at once at most (TASKDOCK_CONCURRENCY). */
  readonly concurrency: number;
  /** Running tasks of one owner at most (TASKDOCK_MAX_PER_OWNER). */
  readonly maxPerOwner: number;
  /** Running tasks of a workflow at most (TASKDOCK_GLOBAL_CONCURRENCY); changeable later. */
  readonly globalConcurrency: Readonly<Record<string, number>>;
  /** Whether the task is still stored and waiting (queued or scheduled). */
  isWaiting(record: TaskRecord): boolean;
  /** A task's wait time is over (before it joins its lane): `scheduled` becomes `queued`. */
  onDue(record: TaskRecord): void;
  /** Starts the task (it is held: `release` it when its attempt ends). */
  start(record: TaskRecord): void;
}

interface QueueEntry {
  readonly record: TaskRecord;
  readonly token: number;
}
interface DueEntry extends QueueEntry {
  readonly at: number;
}
/** Waiting tasks of one workflow and owner, best first: priority (0 highest), then order queued. */
interface Lane {
  readonly workflow: string;
  readonly owner: string | undefined;
  readonly heap: MinHeap<QueueEntry>;
}

/** Node fires longer timeouts at once; a later due time is re-armed in steps. */
const MAX_TIMER_MS = 3_600_000;

const runsFirst = (a: QueueEntry, b: QueueEntry) =>
  a.record.priority !== b.record.priority
    ? a.record.priority < b.record.priority
    : a.token < b.token;
const dueFirst = (a: DueEntry, b: DueEntry) => a.at < b.at || (a.at === b.at && a.token < b.token);

/**
 * The memory engine's queue: tasks wait in one heap per workflow and owner (lanes), or, until
 * their time, in a heap of due times behind one timer. Starts the best waiting task whenever a
 * slot is free and its workflow (paused, global concurrency) and owner allow it. Entries are
 * never taken out: a task re-queued, cancelled or removed leaves a stale entry (its token no
 * longer the task's), skipped when met.
 */
export class MemoryQueue {
  readonly #o: MemoryQueueOptions;
  readonly #lanes = new Map<string, Lane>();
  #due = new MinHeap<DueEntry>(dueFirst);
  #dueTimer: NodeJS.Timeout | undefined;
  #dueTimerAt = Number.POSITIVE_INFINITY;
  readonly #running = new Set<TaskRecord>();
  readonly #runningPerWorkflow = new Map<string, number>();
  readonly #runningPerOwner = new Map<string, number>();
  readonly #paused = new Set<string>();
  readonly #globalConcurrency: Map<string, number>;
  #token = 0;
  #dispatchPending = false;
  #closed = false;

  constructor(options: MemoryQueueOptions) {
    this.#o = options;
    this.#globalConcurrency = new Map(Object.entries(options.globalConcurrency));
  }

  /** The tasks running now. */
  running(): readonly TaskRecord[] {
    return [...this.#running];
  }

  isPaused(workflow: string): boolean {
    return this.#paused.has(workflow);
  }

  setPaused(workflow: string, paused: boolean): void {
    if (paused) this.#paused.add(workflow);
    else this.#paused.delete(workflow);
    this.#scheduleDispatch();
  }

  globalConcurrency(workflow: string): number | null {
    return this.#globalConcurrency.get(workflow) ?? null;
  }

  setGlobalConcurrency(workflow: string, limit: number | null): void {
    if (limit === null) this.#globalConcurrency.delete(workflow);
    else this.#globalConcurrency.set(workflow, limit);
    this.#scheduleDispatch();
  }

  /** Queues the task to start at `at` (now or later); an earlier entry of it no longer counts. */
  enqueue(record: TaskRecord, at: number): void {
    record.queueToken = ++this.#token;
    const entry = { record, token: record.queueToken };
    if (at > Date.now()) {
      this.#due.push({ ...entry, at });
      this.#armDueTimer();
    } else {
      this.#ready(entry);
    }
  }

  /** Takes the task out of the queue (its entries become stale). */
  forget(record: TaskRecord): void {
    record.queueToken = ++this.#token;
  }

  /** Counts the task as running (per workflow and owner too) until `release`. */
  #hold(record: TaskRecord): void {
    this.#running.add(record);
    this.#bump(record, 1);
  }

  /** The task's attempt ended: its slot is free for the next one. */
  release(record: TaskRecord): void {
    if (!this.#running.delete(record)) return;
    this.#bump(record, -1);
    this.#scheduleDispatch();
  }

  #bump(record: TaskRecord, delta: 1 | -1): void {
    const bump = (map: Map<string, number>, key: string) => {
      const value = (map.get(key) ?? 0) + delta;
      if (value > 0) map.set(key, value);
      else map.delete(key);
    };
    bump(this.#runningPerWorkflow, record.workflow);
    if (record.owner !== undefined) bump(this.#runningPerOwner, record.owner);
  }

  /** Drops the stale entries of the due heap (tasks cancelled or removed while they waited). */
  compact(): void {
    const live = new MinHeap<DueEntry>(dueFirst);
    for (let entry = this.#due.pop(); entry; entry = this.#due.pop()) {
      if (this.#isCurrent(entry)) live.push(entry);
    }
    this.#due = live;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#dueTimer);
  }

  #isCurrent(entry: QueueEntry): boolean {
    return entry.record.queueToken === entry.token && this.#o.isWaiting(entry.record);
  }

  #ready(entry: QueueEntry): void {
    const { workflow, owner } = entry.record;
    const key = `${workflow}\n${owner ?? ''}`;
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { workflow, owner, heap: new MinHeap(runsFirst) };
      this.#lanes.set(key, lane);
    }
    lane.heap.push(entry);
    this.#scheduleDispatch();
  }

  #armDueTimer(): void {
    const next = this.#due.peek();
    if (!next || this.#closed || next.at >= this.#dueTimerAt) return;
    clearTimeout(this.#dueTimer);
    this.#dueTimerAt = next.at;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, next.at - Date.now()));
    this.#dueTimer = setTimeout(() => this.#promoteDue(), wait);
    this.#dueTimer.unref();
  }

  /** Moves the tasks whose time has come to their lanes. */
  #promoteDue(): void {
    this.#dueTimer = undefined;
    this.#dueTimerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (let next = this.#due.peek(); next && next.at <= now; next = this.#due.peek()) {
      this.#due.pop();
      if (!this.#isCurrent(next)) continue;
      this.#o.onDue(next.record);
      this.#ready(next);
    }
    this.#armDueTimer();
  }

  #scheduleDispatch(): void {
    if (this.#dispatchPending || this.#closed) return;
    this.#dispatchPending = true;
    // After the caller's answer is made: a created task is returned queued, as on Redis.
    setImmediate(() => {
      this.#dispatchPending = false;
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (!this.#closed && this.#running.size < this.#o.concurrency) {
      let best: Lane | undefined;
      let bestHead: QueueEntry | undefined;
      for (const [key, lane] of this.#lanes) {
        let head = lane.heap.peek();
        while (head && !this.#isCurrent(head)) {
          lane.heap.pop();
          head = lane.heap.peek();
        }
        if (!head) {
          this.#lanes.delete(key);
          continue;
        }
        if (!this.#mayStart(lane)) continue;
        if (!bestHead || runsFirst(head, bestHead)) {
          best = lane;
          bestHead = head;
        }
      }
      if (!best || !bestHead) return;
      best.heap.pop();
      this.#hold(bestHead.record);
      this.#o.start(bestHead.record);
    }
  }

  #mayStart(lane: Lane): boolean {
    if (this.#paused.has(lane.workflow)) return false;
    const limit = this.#globalConcurrency.get(lane.workflow);
    if (limit !== undefined && (this.#runningPerWorkflow.get(lane.workflow) ?? 0) >= limit) {
      return false;
    }
    return (
      lane.owner === undefined || (this.#runningPerOwner.get(lane.owner) ?? 0) < this.#o.maxPerOwner
    );
  }
}
