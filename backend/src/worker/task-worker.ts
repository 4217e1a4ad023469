import { randomBytes } from 'node:crypto';
import os from 'node:os';
import {
  DelayedError,
  type Job,
  type Queue,
  UnrecoverableError,
  WaitingError,
  type Worker,
} from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { WorkerInfo } from '../contract/index.ts';
import {
  CANCEL_CHANNEL,
  CANCELLED_REASON,
  cancelKey,
  formatTaskId,
  ownerSlotsKey,
  PREFIX,
  parseTaskId,
  QUEUE_EVENTS_MAX_LEN,
  queueKey,
  RELEASED_EVENT,
  STARTED_EVENT,
} from '../tasks/keys.ts';
import { createQueue } from '../tasks/queues.ts';
import { defineScripts } from '../tasks/scripts.ts';
import { ERROR_CODE_FIELD, type TaskMeta } from '../tasks/task-mapper.ts';
import { removeHeartbeat, writeHeartbeat } from '../tasks/worker-registry.ts';
import { matchesAnyGlob, type WorkflowRegistry } from '../workflows/registry.ts';
import { TaskFailure, type Workflow } from '../workflows/workflow.ts';
import { redactFailureStack } from './failure-stack.ts';
import { LogBuffer } from './log-buffer.ts';
import type { ProcessGroups } from './process-groups.ts';
import { capResult } from './result-cap.ts';
import { Semaphore } from './semaphore.ts';
import { SlotWorker } from './slot-worker.ts';

export type TaskWorkerConfig = Pick<
  Config,
  | 'workflows'
  | 'concurrency'
  | 'maxPerOwner'
  | 'lockDurationMs'
  | 'shutdownGraceMs'
  | 'retentionDays'
  | 'globalConcurrency'
  | 'maxResultBytes'
  | 'maxLogLines'
  | 'maxLogLineBytes'
  | 'maxHttpBodyBytes'
>;

export interface TaskWorkerOptions {
  readonly redis: Redis;
  readonly registry: WorkflowRegistry;
  readonly config: TaskWorkerConfig;
  readonly logger: Logger;
  /** Process groups of `shell` tasks: orphans of dead workers are reaped before taking work. */
  readonly processGroups?: Pick<ProcessGroups, 'reapOrphans'>;
}

const CANCEL = 'taskdock:cancel';
const SHUTDOWN = 'taskdock:shutdown';
const HEARTBEAT_MS = 2000;
const RETENTION_SWEEP_MS = 10 * 60_000;
const CANCEL_REQUEST_TTL_MS = 60_000;

export interface TaskWorker {
  readonly id: string;
  readonly workflows: readonly string[];
  start(): Promise<void>;
  /** Stops taking work; active tasks get the grace period, then go back to the queue. */
  stop(): Promise<void>;
}

/** Runs tasks of the workflows matching `config.workflows`, one BullMQ Worker per queue. */
export function createTaskWorker({
  redis,
  registry,
  config,
  logger,
  processGroups,
}: TaskWorkerOptions): TaskWorker {
  defineScripts(redis);
  const id = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const served = registry.list().filter((w) => matchesAnyGlob(w.name, config.workflows));
  // Shared by the SlotWorkers of all queues: at most `concurrency` tasks run in this process.
  const slots = new Semaphore(config.concurrency);
  const subscriber = redis.duplicate();
  const workers = new Map<string, Worker>();
  const queues: Queue[] = [];
  const startedAt = new Date().toISOString();
  const active = new Set<string>();
  const cancelRequests = new Map<string, number>();
  let stopping = false;
  let heartbeat: NodeJS.Timeout | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  let reaper: NodeJS.Timeout | undefined;

  const info = (): WorkerInfo => ({
    id,
    host: os.hostname(),
    pid: process.pid,
    workflows: served.map((w) => w.name),
    concurrency: config.concurrency,
    running: active.size,
    activeTasks: [...active],
    startedAt,
    lastSeenAt: new Date().toISOString(),
  });
  const beat = () =>
    writeHeartbeat(redis, info(), HEARTBEAT_MS * 3).catch((err) =>
      logger.warn({ err }, 'heartbeat failed'),
    );

  async function holdOwnerSlot(owner: string, taskId: string): Promise<NodeJS.Timeout | null> {
    const key = ownerSlotsKey(owner);
    const lease = config.lockDurationMs;
    const held = await redis.taskdockAcquireSlot(key, taskId, config.maxPerOwner, lease);
    if (held !== 1) return null;
    return setInterval(() => {
      redis.taskdockAcquireSlot(key, taskId, config.maxPerOwner, lease).catch(() => {});
    }, lease / 3);
  }

  async function runJob(workflow: Workflow, job: Job, token: string, signal: AbortSignal) {
    const taskId = formatTaskId(workflow.name, job.id as string);
    const meta = (job.opts as { taskdock?: TaskMeta }).taskdock;
    let ownerLease: NodeJS.Timeout | null = null;
    if (meta?.owner !== undefined) {
      ownerLease = await holdOwnerSlot(meta.owner, taskId);
      if (!ownerLease) {
        // The owner is at its limit on some worker: wait a moment in the delayed set, unlocked.
        await job.moveToDelayed(Date.now() + 100 + Math.floor(Math.random() * 150), token);
        throw new DelayedError();
      }
    }
    const releaseOwnerSlot = async () => {
      if (!ownerLease) return;
      clearInterval(ownerLease);
      await redis.zrem(ownerSlotsKey(meta?.owner as string), taskId);
    };

    // Cancels reach a worker by pub/sub; one that arrived before BullMQ tracked the job waits in
    // `cancelRequests`. A task that ran before (retry, stall) or waited for its owner's slot may
    // have been cancelled while no worker listened: those check the cancel key in Redis, and
    // record when they really start (for a throttled task, BullMQ's `active` came too early).
    const checkRedis =
      meta?.owner !== undefined || job.attemptsStarted > 1 || job.stalledCounter > 0;
    const cancelled =
      cancelRequests.delete(taskId) ||
      signal.reason === CANCEL ||
      (checkRedis &&
        (await redis.taskdockStartTask(
          cancelKey(taskId),
          `${queueKey(workflow.name)}events`,
          job.id as string,
          QUEUE_EVENTS_MAX_LEN,
          STARTED_EVENT,
        )) === 1);
    if (cancelled) {
      await releaseOwnerSlot();
      throw new UnrecoverableError(CANCELLED_REASON);
    }

    const timeoutMs = meta?.timeoutMs;
    const taskSignal = timeoutMs
      ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
      : signal;
    const logs = new LogBuffer(redis, `${queueKey(workflow.name)}${job.id}:logs`, {
      keepLines: config.maxLogLines,
      lineBytes: config.maxLogLineBytes,
    });
    let lastProgress = '';
    active.add(taskId);
    try {
      const result = await workflow.run({
        taskId,
        params: job.data,
        signal: taskSignal,
        attempt: job.attemptsMade + 1,
        limits: {
          resultBytes: config.maxResultBytes,
          logLineBytes: config.maxLogLineBytes,
          httpBodyBytes: config.maxHttpBodyBytes,
        },
        log: (text, stream = 'stdout') => logs.push(text, stream),
        progress: async (percent, step) => {
          const value = step === undefined ? { percent } : { percent, step };
          const text = JSON.stringify(value);
          if (text === lastProgress) return;
          lastProgress = text;
          // Stamped, so the task's updatedAt moves with its progress.
          await job.updateProgress({ ...value, at: Date.now() });
        },
      });
      // The one place a result goes back to BullMQ: past the cap, only a preview is stored.
      const stored = capResult(result, config.maxResultBytes);
      if (stored !== result) {
        logs.push(
          `Result is over TASKDOCK_MAX_RESULT_BYTES (${config.maxResultBytes}): stored truncated`,
          'system',
        );
      }
      return stored;
    } catch (err) {
      if (signal.aborted && signal.reason === CANCEL) {
        logs.push('Cancelled', 'system');
        throw new UnrecoverableError(CANCELLED_REASON);
      }
      if (signal.aborted && signal.reason === SHUTDOWN) {
        logs.push('Worker is stopping: task goes back to the queue', 'system');
        await release(job, token);
      }
      const failure =
        taskSignal.aborted && !signal.aborted
          ? new TaskFailure(`Timed out after ${timeoutMs} ms`, 'TIMEOUT')
          : err;
      const message = failure instanceof Error ? failure.message : String(failure);
      logs.push(message, 'system');
      if (failure instanceof TaskFailure) {
        await redis.hset(`${queueKey(workflow.name)}${job.id}`, ERROR_CODE_FIELD, failure.code);
      }
      throw failure;
    } finally {
      active.delete(taskId);
      await releaseOwnerSlot();
      await logs.flush();
    }
  }

  /** Hands a started task back to the queue; its attempt is recorded as released, not failed. */
  async function release(job: Job, token: string | undefined): Promise<never> {
    await redis.xadd(
      `${queueKey(job.queueName)}events`,
      'MAXLEN',
      '~',
      QUEUE_EVENTS_MAX_LEN,
      '*',
      'event',
      RELEASED_EVENT,
      'jobId',
      job.id as string,
    );
    await job.moveToWait(token);
    throw new WaitingError();
  }

  function processorFor(workflow: Workflow) {
    // The job's SlotWorker holds a slot for it while this runs.
    return async (job: Job, token: string | undefined, signal: AbortSignal | undefined) => {
      try {
        if (stopping) await release(job, token);
        return await runJob(workflow, job, token as string, signal ?? new AbortController().signal);
      } catch (err) {
        redactFailureStack(err);
        throw err;
      }
    };
  }

  async function sweepRetention(): Promise<void> {
    const graceMs = config.retentionDays * 86_400_000;
    for (const queue of queues) {
      for (const state of ['completed', 'failed'] as const) {
        // In batches, so Redis is never blocked for long. BullMQ's clean emits no per-job
        // events, so say "removed" for each: the event relay drops them from the indexes.
        for (;;) {
          const removed = await queue.clean(graceMs, 1000, state);
          if (removed.length > 0) {
            const events = redis.pipeline();
            for (const jobId of removed) {
              events.xadd(
                `${queueKey(queue.name)}events`,
                'MAXLEN',
                '~',
                QUEUE_EVENTS_MAX_LEN,
                '*',
                'event',
                'removed',
                'jobId',
                jobId,
                'prev',
                state,
              );
            }
            await events.exec();
          }
          if (removed.length < 1000) break;
        }
      }
    }
  }

  return {
    id,
    workflows: served.map((w) => w.name),
    async start() {
      if (served.length === 0) {
        throw new Error(
          `TASKDOCK_WORKFLOWS (${config.workflows.join(',')}) matches none of the workflows: ${registry
            .list()
            .map((w) => w.name)
            .join(', ')}`,
        );
      }
      await subscriber.subscribe(CANCEL_CHANNEL);
      subscriber.on('message', (_channel, taskId: string) => {
        const ref = parseTaskId(taskId);
        const worker = ref && workers.get(ref.queue);
        if (!worker || worker.cancelJob(ref.jobId, CANCEL)) return;
        // Not running here (yet): if BullMQ hands it to this worker soon, it is cancelled then.
        cancelRequests.set(taskId, Date.now() + CANCEL_REQUEST_TTL_MS);
        for (const [id, until] of cancelRequests) if (until < Date.now()) cancelRequests.delete(id);
      });
      for (const workflow of served) {
        const queue = createQueue(workflow.name, redis);
        queues.push(queue);
        const limit = config.globalConcurrency[workflow.name];
        if (limit !== undefined) await queue.setGlobalConcurrency(limit);
        const worker = new SlotWorker(slots, redis, workflow.name, processorFor(workflow), {
          // BullMQ duplicates this client for its blocking reads (so it must have maxRetriesPerRequest null).
          connection: redis,
          prefix: PREFIX,
          // BullMQ stores it on each job it fetches (processedBy): the attempt's worker.
          name: id,
          concurrency: config.concurrency,
          lockDuration: config.lockDurationMs,
          stalledInterval: config.lockDurationMs,
          maxStalledCount: 1,
          autorun: false,
        });
        worker.on('error', (err) => logger.error({ err, workflow: workflow.name }, 'worker error'));
        worker.on('failed', (job, err) => {
          if (job && err.message !== CANCELLED_REASON) {
            logger.info(
              { taskId: formatTaskId(workflow.name, job.id as string), err: err.message },
              'task failed',
            );
          }
        });
        workers.set(workflow.name, worker);
      }
      if (processGroups) {
        const reap = () =>
          processGroups.reapOrphans().catch((err) => logger.warn({ err }, 'reaping failed'));
        await reap();
        // Twice per lock duration: an orphan on this host is gone before its task is re-queued.
        reaper = setInterval(reap, config.lockDurationMs / 2);
      }
      await beat();
      heartbeat = setInterval(beat, HEARTBEAT_MS);
      for (const worker of workers.values()) void worker.run();
      await Promise.all([...workers.values()].map((w) => w.waitUntilReady()));
      sweeper = setInterval(
        () => sweepRetention().catch((err) => logger.warn({ err }, 'retention sweep failed')),
        RETENTION_SWEEP_MS,
      );
      void sweepRetention().catch((err) => logger.warn({ err }, 'retention sweep failed'));
      logger.info(
        { workerId: id, workflows: served.map((w) => w.name), concurrency: config.concurrency },
        'worker ready',
      );
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(sweeper);
      clearInterval(reaper);
      const closing = Promise.all([...workers.values()].map((w) => w.close()));
      let graceTimer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace-over'>((resolve) => {
        graceTimer = setTimeout(() => resolve('grace-over'), config.shutdownGraceMs);
      });
      if ((await Promise.race([closing, graceOver])) === 'grace-over') {
        logger.warn(
          { active: [...active] },
          'grace period over: returning active tasks to the queue',
        );
        for (const worker of workers.values()) worker.cancelAllJobs(SHUTDOWN);
        await closing;
      }
      clearTimeout(graceTimer);
      clearInterval(heartbeat);
      await removeHeartbeat(redis, id).catch(() => {});
      await Promise.all(queues.map((q) => q.close()));
      await subscriber.quit().catch(() => {});
      logger.info({ workerId: id }, 'worker stopped');
    },
  };
}
