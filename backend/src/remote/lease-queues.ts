import { duplicateConnection, type RedisConnection } from '@taskdock/shared/node/redis-connection';
import { type Job, type Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { PREFIX } from '../tasks/keys.ts';
import { createQueue } from '../tasks/queues.ts';

/** BullMQ types moveToActive as always giving a job; it gives undefined when there is none. */
type MaybeJob = Job | undefined;

/**
 * A BullMQ Worker with no processor ("manual processing"): the lease protocol takes jobs with
 * it, the lease id as the lock token, and its stalled checker returns expired leases' jobs.
 */
class LeaseWorker extends Worker {
  /** The next job, locked by `token` for the lock duration, `processedBy` = the worker's id. */
  take(token: string, workerId: string): Promise<MaybeJob> {
    return this.moveToActive(token, workerId) as Promise<MaybeJob>;
  }
}

export interface LeaseQueuesOptions {
  readonly redis: RedisConnection;
  /** A lease lasts this long from its last heartbeat (the BullMQ lock duration). */
  readonly leaseMs: number;
  /** Expiries after which a task fails with STALLED. */
  readonly maxStalls: number;
  readonly logger: Logger;
  /** A job whose lease expired went back to the queue (or failed: past maxStalls). */
  readonly onStalled: (queue: string, jobId: string) => void;
}

export interface LeaseQueue {
  readonly queue: Queue;
  take(token: string, workerId: string): Promise<MaybeJob>;
  /** False when `token` no longer holds the job's lock. */
  extend(jobId: string, token: string, durationMs: number): Promise<boolean>;
}

/**
 * One LeaseWorker and Queue per remote queue, made when the queue is first declared, each
 * running BullMQ's stalled checker for it: the backend is where remote workers' locks live.
 */
export class LeaseQueues {
  readonly #options: LeaseQueuesOptions;
  /** BullMQ Workers need a client that retries forever (it duplicates it for blocking reads). */
  readonly #workerClient: RedisConnection;
  readonly #queues = new Map<string, { worker: LeaseWorker; queue: Queue }>();

  constructor(options: LeaseQueuesOptions) {
    this.#options = options;
    this.#workerClient = duplicateConnection(options.redis, {
      maxRetriesPerRequest: null,
      connectionName: 'taskdock-leases',
    });
    this.#workerClient.on('error', () => {});
  }

  /** Makes the workers of queues not seen before. */
  sync(names: readonly string[]): void {
    for (const name of names) this.get(name);
  }

  get(name: string): LeaseQueue {
    let entry = this.#queues.get(name);
    if (!entry) {
      const { redis, leaseMs, maxStalls, logger, onStalled } = this.#options;
      const worker = new LeaseWorker(name, null, {
        connection: this.#workerClient,
        prefix: PREFIX,
        autorun: false,
        lockDuration: leaseMs,
        // A heartbeat takes the job out of BullMQ's stalled set, the next check puts it back
        // and the one after finds an expired lock: so an expiry is seen within half a lease.
        stalledInterval: Math.max(50, Math.floor(leaseMs / 2)),
        // BullMQ fails a job stalled more than this many times; ours fails at the maxStalls-th.
        maxStalledCount: maxStalls - 1,
        // Leases are renewed by heartbeats only, never by this process.
        skipLockRenewal: true,
      });
      worker.on('error', (err) => logger.warn({ err, queue: name }, 'lease worker error'));
      worker.on('stalled', (jobId: string) => onStalled(name, jobId));
      void worker.startStalledCheckTimer();
      entry = { worker, queue: createQueue(name, redis) };
      this.#queues.set(name, entry);
    }
    const { worker, queue } = entry;
    return {
      queue,
      take: (token, workerId) => worker.take(token, workerId),
      async extend(jobId, token, durationMs) {
        const failed = await worker.extendJobLocks([jobId], [token], durationMs);
        return failed.length === 0;
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.#queues.values()].map(async ({ worker, queue }) => {
        await worker.close();
        await queue.close();
      }),
    );
    this.#queues.clear();
    await this.#workerClient.quit().catch(() => {});
  }
}
