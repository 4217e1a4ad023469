import { duplicateConnection, type RedisConnection } from '@taskdock/shared/node/redis-connection';
import type { Logger } from 'pino';
import { PREFIX, queueKey } from '../tasks/keys.ts';

/** Long-polls a host holds at once; more answer at once (each holds an HTTP connection). */
export const MAX_WAITERS = 1000;
/** The XREAD blocks this long, so a newly declared queue joins it soon. */
const BLOCK_MS = 200;

type Wake = () => void;

/**
 * Wakes long-polling lease requests when something happens on a queue they wait for. One
 * blocking XREAD over the events streams of every remote queue, read from where it left off, so
 * an add by any host or any BullMQ producer wakes a waiter within a few milliseconds.
 */
export class LeaseWaker {
  readonly #redis: RedisConnection;
  readonly #blocking: RedisConnection;
  readonly #queues: () => readonly string[];
  readonly #logger: Logger;
  readonly #waiters = new Map<string, Set<Wake>>();
  readonly #positions = new Map<string, string>();
  #count = 0;
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(redis: RedisConnection, queues: () => readonly string[], logger: Logger) {
    this.#redis = redis;
    this.#blocking = duplicateConnection(redis, { connectionName: 'taskdock-lease-waker' });
    this.#blocking.on('error', () => {});
    this.#queues = queues;
    this.#logger = logger;
  }

  /** Long-polls waiting now. */
  get waiting(): number {
    return this.#count;
  }

  /**
   * Marks where the streams of queues new to this waker stand, on the main connection: a task
   * added right after a declaration (same connection, so later) is then seen.
   */
  follow(queues: readonly string[]): void {
    for (const queue of queues) {
      if (this.#positions.has(queue)) continue;
      void this.#redis
        .xrevrange(`${queueKey(queue)}events`, '+', '-', 'COUNT', 1)
        .then(([newest]) => {
          if (!this.#positions.has(queue)) this.#positions.set(queue, newest?.[0] ?? '0-0');
        })
        .catch(() => {});
    }
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
    for (const set of this.#waiters.values()) for (const wake of set) wake();
  }

  /**
   * Registers a waiter for `queues`; `wait` resolves on an event of one of them, after `ms`, or
   * when `signal` aborts. Register before looking for work, then wait: nothing in between is
   * missed. Null when the host holds MAX_WAITERS already.
   */
  register(
    queues: readonly string[],
  ): { wait(ms: number, signal?: AbortSignal): Promise<void>; done(): void } | null {
    if (this.#count >= MAX_WAITERS) return null;
    this.#count++;
    let woken = false;
    let resolve: (() => void) | undefined;
    const wake: Wake = () => {
      woken = true;
      resolve?.();
    };
    for (const queue of queues) {
      const set = this.#waiters.get(queue) ?? new Set<Wake>();
      this.#waiters.set(queue, set);
      set.add(wake);
    }
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      this.#count--;
      for (const queue of queues) {
        const set = this.#waiters.get(queue);
        set?.delete(wake);
        if (set?.size === 0) this.#waiters.delete(queue);
      }
    };
    return {
      done,
      wait: (ms, signal) =>
        new Promise<void>((done_) => {
          if (woken || signal?.aborted || ms <= 0) {
            woken = false;
            done_();
            return;
          }
          const finish = () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', finish);
            resolve = undefined;
            woken = false;
            done_();
          };
          const timer = setTimeout(finish, ms);
          signal?.addEventListener('abort', finish, { once: true });
          resolve = finish;
        }),
    };
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        await this.#step();
      } catch (err) {
        if (!this.#running) return;
        this.#logger.warn({ err: (err as Error).message }, 'lease waker step failed; retrying');
        this.#positions.clear();
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async #step(): Promise<void> {
    const queues = this.#queues();
    if (queues.length === 0) {
      await new Promise((r) => setTimeout(r, BLOCK_MS));
      return;
    }
    for (const queue of queues) {
      if (this.#positions.has(queue)) continue;
      // From the newest entry on: what came before is in the queue already, fetches see it.
      const [newest] = await this.#blocking.xrevrange(
        `${queueKey(queue)}events`,
        '+',
        '-',
        'COUNT',
        1,
      );
      this.#positions.set(queue, newest?.[0] ?? '0-0');
    }
    const reply = (await this.#blocking.xread(
      'COUNT',
      1000,
      'BLOCK',
      BLOCK_MS,
      'STREAMS',
      ...queues.map((q) => `${queueKey(q)}events`),
      ...queues.map((q) => this.#positions.get(q) as string),
    )) as [string, [string, string[]][]][] | null;
    if (!reply) return;
    for (const [key, entries] of reply) {
      const queue = key.slice(PREFIX.length + 1, -':events'.length);
      const last = entries.at(-1);
      if (last) this.#positions.set(queue, last[0]);
      for (const wake of this.#waiters.get(queue) ?? []) wake();
    }
  }
}
