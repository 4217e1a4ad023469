import { randomUUID } from 'node:crypto';
import { isWorkflowName } from '@taskdock/shared/contract';
import {
  duplicateConnection,
  type RedisConnection,
  scanKeys,
} from '@taskdock/shared/node/redis-connection';
import type { Logger } from 'pino';
import { EVENTS_MAX_LEN, PREFIX, QUEUES_KEY, queueKey, RELAY_LOCK_KEY } from './keys.ts';
import { countIndexes, type IndexCounts, lostIndexes, streamGap } from './live-state-check.ts';
import { reconcileQueue } from './reconcile.ts';
import { defineScripts, type RelayStepReply } from './scripts.ts';

export interface FinishedTask {
  readonly workflow: string;
  readonly outcome: 'completed' | 'failed' | 'cancelled';
  readonly durationMs: number | undefined;
}

const countsOf = (counts: IndexCounts, queue: string) =>
  JSON.stringify([counts.jobs[queue], counts.perQueue[queue]]);

export interface EventRelayOptions {
  readonly redis: RedisConnection;
  /** Queues to follow from the start; others are found as producers create them. */
  readonly queues: readonly string[];
  readonly logger: Logger;
  readonly onFinished?: (task: FinishedTask) => void;
}

const DISCOVER_EVERY_MS = 5_000;
const SCAN_EVERY_MS = 5 * 60_000;
/** Events per step: a step is one Lua call, and Redis serves nobody else while it runs. */
const BATCH_EVENTS = 250;
const BUSY_BATCH = 100;
const BUSY_PAUSE_MS = 20;
const LOCK_MS = 15_000;
/** How often the leader checks for trimmed streams and lost indexes. */
const CHECK_EVERY_MS = 5_000;
const ANOTHER_RELAY_LEADS = -1;

/**
 * Follows every queue's BullMQ event stream and turns it into Taskdock's state: status
 * indexes, persisted counters and one resumable event stream. The work is one Lua script per
 * step, inside Redis (relay-step-script.ts); this loop says when to step, waits for events, and
 * runs the repair checks. One relay leads (a Redis lock the step itself renews); each step reads
 * and moves the stream positions it applies up to, so a crash or a second relay never applies an
 * event twice and never skips one.
 */
export class EventRelay {
  readonly #redis: RedisConnection;
  readonly #blocking: RedisConnection;
  readonly #logger: Logger;
  readonly #onFinished: ((task: FinishedTask) => void) | undefined;
  readonly #queues = new Set<string>();
  readonly #id = randomUUID();
  /** Each followed queue's stream position, as the last step left it. */
  readonly #positions = new Map<string, string>();
  #turn = 0;
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
        await this.#discover();
        const events = await this.#step();
        if (events === ANOTHER_RELAY_LEADS) {
          await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
        if (Date.now() - this.#lastCheck >= CHECK_EVERY_MS) {
          this.#lastCheck = Date.now();
          await this.#repairLiveState(events < BUSY_BATCH);
        }
        // Caught up (a step that read little): wait for the next event, which then goes through
        // at once (low end-to-end latency); the wait returns at once if one came meanwhile, and
        // costs Redis less than a step that finds nothing. Busy but keeping up: let events
        // gather for a moment, as each step has a fixed cost. Behind (a full step): no pause at
        // all, so BullMQ does not trim events unread.
        if (events < BUSY_BATCH) await this.#waitForEvents();
        else if (events < BATCH_EVENTS) await new Promise((r) => setTimeout(r, BUSY_PAUSE_MS));
      } catch (err) {
        if (!this.#running) return;
        this.#logger.warn({ err: (err as Error).message }, 'event relay step failed; retrying');
        this.#lastDiscovery = 0;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async #discover(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastDiscovery < DISCOVER_EVERY_MS) return;
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

  /**
   * One step (relay-step-script.ts); returns how many events it read, or ANOTHER_RELAY_LEADS.
   * The queues take turns at being first, so one busy queue cannot take every step's budget.
   */
  async #step(): Promise<number> {
    const queues = [...this.#queues];
    if (queues.length === 0) return 0;
    const turn = this.#turn++ % queues.length;
    const reply = await this.#redis.taskdockRelayStep(
      PREFIX,
      this.#id,
      LOCK_MS,
      BATCH_EVENTS,
      EVENTS_MAX_LEN,
      ...queues.slice(turn),
      ...queues.slice(0, turn),
    );
    if (reply[0] === ANOTHER_RELAY_LEADS) return ANOTHER_RELAY_LEADS;
    const [read, positions, finished] = reply as RelayStepReply;
    for (let i = 0; i + 1 < positions.length; i += 2) {
      this.#positions.set(positions[i] as string, positions[i + 1] as string);
    }
    if (this.#onFinished) {
      for (let i = 0; i + 2 < finished.length; i += 3) {
        const durationMs = Number(finished[i + 2]);
        this.#onFinished({
          workflow: String(finished[i]),
          outcome: finished[i + 1] as FinishedTask['outcome'],
          durationMs: durationMs >= 0 ? durationMs : undefined,
        });
      }
    }
    return read;
  }

  /** Until some queue's stream has an event past the relay's position (or a second passed). */
  async #waitForEvents(): Promise<void> {
    if (this.#positions.size === 0) {
      await new Promise((r) => setTimeout(r, 1000));
      return;
    }
    const queues = [...this.#positions.keys()];
    await this.#blocking.xread(
      'COUNT',
      1,
      'BLOCK',
      1000,
      'STREAMS',
      ...queues.map((q) => `${queueKey(q)}events`),
      ...queues.map((q) => this.#positions.get(q) as string),
    );
  }
}
