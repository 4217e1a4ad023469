import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import { type Job, type Processor, Worker, type WorkerOptions } from 'bullmq';
import type { Semaphore } from './semaphore.ts';

/** BullMQ types moveToActive as always giving a job; it gives undefined when there is none. */
const NO_JOB = undefined as unknown as Job;

/**
 * A BullMQ Worker that takes a job from Redis only while it holds one of the process's slots
 * (one Semaphore shared by the Workers of every queue served). A task waiting for a slot so stays
 * in BullMQ's wait list: `queued`, no lock, no start time; BullMQ's `active` (and so `running`,
 * `processedOn`) means its code runs.
 *
 * BullMQ names each fetch by a token and, when a job ends, fetches the next one with the same
 * token in the same Redis call: the slot goes with the token. That fetch-next (no extra round
 * trip: the hot path) is kept, unless another queue waits for a slot: then the slot goes there.
 *
 * BullMQ's loop awaits a fetch before it starts the jobs it holds already, so a fetch waits for
 * a slot only while this Worker has no fetched job left to start, and stops waiting when one
 * comes (a finished job fetched its successor): such a job holds a slot and must not wait.
 */
export class SlotWorker extends Worker {
  readonly #slots: Semaphore;
  readonly #redis: RedisConnection;
  /** Tokens holding a slot. */
  readonly #holders = new Set<string>();
  /** Fetched, holding a slot, not yet handed to processJob. */
  readonly #unstarted = new Set<Job>();
  /** Fetches waiting for a slot. */
  readonly #waits = new Set<AbortController>();
  readonly #closing = new AbortController();

  constructor(
    slots: Semaphore,
    redis: RedisConnection,
    name: string,
    processor: Processor,
    opts: WorkerOptions,
  ) {
    super(name, processor, opts);
    this.#slots = slots;
    this.#redis = redis;
  }

  protected override async moveToActive(token: string, name?: string): Promise<Job> {
    if (!this.#holders.has(token)) {
      const slot = this.#slots.tryAcquire() ? 'held' : await this.#waitForSlot();
      if (slot !== 'held') {
        // Woken for a job, BullMQ's fetch took the queue's marker: give it back, so workers with
        // a free slot (here later, or in another process) take the job. (A fetch that woke this
        // one has put it back already.)
        if (slot === 'not-now') {
          this.#redis.zadd(this.keys.marker as string, 0, '0').catch(() => {});
        }
        return NO_JOB;
      }
      this.#holders.add(token);
    }
    let job: Job | undefined;
    try {
      job = await super.moveToActive(token, name);
    } finally {
      if (job) this.#fetched(job);
      else this.#release(token);
    }
    return job;
  }

  override async processJob(
    job: Job,
    token: string,
    fetchNextCallback: () => boolean = () => true,
  ): Promise<Job | undefined> {
    this.#unstarted.delete(job);
    let fetchNext = false;
    let next: Job | undefined;
    try {
      next =
        (await super.processJob(job, token, () => {
          // Only this Worker's own fetches waiting: the slot would come back here anyway.
          fetchNext ||= fetchNextCallback() && this.#slots.waiting <= this.#waits.size;
          return fetchNext;
        })) ?? undefined;
    } finally {
      if (next) this.#fetched(next);
      else this.#release(token);
    }
    return next;
  }

  override close(force?: boolean): Promise<void> {
    this.#closing.abort();
    return super.close(force);
  }

  /**
   * 'held' once a slot is; else none is held: 'woken' when a job this Worker fetched meanwhile is
   * to start, 'not-now' when one was to start already or the Worker is closing.
   */
  async #waitForSlot(): Promise<'held' | 'woken' | 'not-now'> {
    if (this.#unstarted.size > 0) return 'not-now';
    const wake = new AbortController();
    this.#waits.add(wake);
    try {
      if (await this.#slots.acquire(AbortSignal.any([wake.signal, this.#closing.signal]))) {
        return 'held';
      }
      return wake.signal.aborted ? 'woken' : 'not-now';
    } finally {
      this.#waits.delete(wake);
    }
  }

  #fetched(job: Job): void {
    this.#unstarted.add(job);
    for (const wake of this.#waits) wake.abort();
  }

  #release(token: string): void {
    if (this.#holders.delete(token)) this.#slots.release();
  }
}
