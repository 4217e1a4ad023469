import {
  QUEUE_LIMITS,
  type QueueState,
  type RemoveFinishedResult,
} from '@taskdock/shared/contract';
import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import type { Queue } from 'bullmq';
import { NotFoundError } from '../engine/errors.ts';
import type { WorkflowRegistry } from '../workflows/registry.ts';
import { cleanFinished, FINISHED_STATES } from './finished-cleanup.ts';
import { queueMetaKey } from './keys.ts';
import { createQueue } from './queues.ts';

const CLEAN_BATCH = 1000;

/**
 * The controls of each workflow's queue, on BullMQ's own: pause/resume (the queue's meta `paused`,
 * which every BullMQ worker honours), global concurrency (meta `concurrency`, checked by BullMQ
 * when a worker fetches a job) and removing finished jobs (BullMQ's clean).
 */
export class QueueControls {
  readonly #redis: RedisConnection;
  readonly #registry: WorkflowRegistry;
  readonly #queues = new Map<string, Queue>();

  constructor(redis: RedisConnection, registry: WorkflowRegistry) {
    this.#redis = redis;
    this.#registry = registry;
  }

  /** The BullMQ queue of a workflow; NotFoundError when no workflow has this name. */
  queue(workflow: string): Queue {
    if (!this.#registry.get(workflow)) {
      throw new NotFoundError(`No workflow named "${workflow}"`);
    }
    let queue = this.#queues.get(workflow);
    if (!queue) {
      queue = createQueue(workflow, this.#redis);
      this.#queues.set(workflow, queue);
    }
    return queue;
  }

  /** Every workflow's queue, in the registry's order; one round trip. */
  async states(): Promise<QueueState[]> {
    const names = this.#registry.list().map((w) => w.name);
    return this.#read(names);
  }

  async state(workflow: string): Promise<QueueState> {
    this.queue(workflow);
    const [state] = await this.#read([workflow]);
    return state as QueueState;
  }

  async #read(names: readonly string[]): Promise<QueueState[]> {
    const read = this.#redis.pipeline();
    for (const name of names) read.hmget(queueMetaKey(name), 'paused', 'concurrency');
    const rows = (await read.exec()) ?? [];
    return names.map((workflow, i) => {
      const [err, value] = rows[i] ?? [new Error('no answer'), null];
      if (err) throw err;
      const [paused, concurrency] = value as (string | null)[];
      return {
        workflow,
        paused: paused === '1',
        globalConcurrency: concurrency ? Number(concurrency) : null,
      };
    });
  }

  async setPaused(workflow: string, paused: boolean): Promise<QueueState> {
    const queue = this.queue(workflow);
    await (paused ? queue.pause() : queue.resume());
    return this.state(workflow);
  }

  async setGlobalConcurrency(workflow: string, limit: number | null): Promise<QueueState> {
    const queue = this.queue(workflow);
    await (limit === null ? queue.removeGlobalConcurrency() : queue.setGlobalConcurrency(limit));
    return this.state(workflow);
  }

  /**
   * Removes the workflow's tasks that finished at or before `before` (ms), at most
   * QUEUE_LIMITS.maxRemovePerCall per call; a dry run only counts them.
   */
  async removeFinished(
    workflow: string,
    before: number,
    dryRun: boolean,
  ): Promise<RemoveFinishedResult> {
    const queue = this.queue(workflow);
    // Never later than now: a job finishing while this runs is not "older than" anything.
    const until = Math.min(before, Date.now());
    const count = async () => {
      const counts = await Promise.all(
        FINISHED_STATES.map((state) =>
          this.#redis.zcount(queue.keys[state] as string, '-inf', until),
        ),
      );
      return counts.reduce((a, b) => a + b, 0);
    };
    const matched = await count();
    if (dryRun || matched === 0) return { matched, removed: 0, remaining: matched };
    let removed = 0;
    for (const state of FINISHED_STATES) {
      while (removed < QUEUE_LIMITS.maxRemovePerCall) {
        const limit = Math.min(CLEAN_BATCH, QUEUE_LIMITS.maxRemovePerCall - removed);
        const n = await cleanFinished(this.#redis, queue, state, Date.now() - until, limit);
        removed += n;
        if (n < limit) break;
      }
    }
    return { matched, removed, remaining: await count() };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
  }
}
