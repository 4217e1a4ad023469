import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { WorkerInfo } from '@taskdock/shared/contract';
import { duplicateConnection, type RedisConnection } from '@taskdock/shared/node/redis-connection';
import {
  DelayedError,
  type Job,
  type Queue,
  UnrecoverableError,
  WaitingError,
  type Worker,
} from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { cleanFinished, FINISHED_STATES } from '../tasks/finished-cleanup.ts';
import {
  CANCEL_CHANNEL,
  CANCELLED_REASON,
  cancelKey,
  formatTaskId,
  PREFIX,
  parseTaskId,
  QUEUE_EVENTS_MAX_LEN,
  queueKey,
  RELEASED_EVENT,
  STARTED_EVENT,
} from '../tasks/keys.ts';
import { OwnerSlots } from '../tasks/owner-slots.ts';
import { createQueue } from '../tasks/queues.ts';
import { defineScripts } from '../tasks/scripts.ts';
import { ERROR_CODE_FIELD, type TaskMeta } from '../tasks/task-mapper.ts';
import { removeHeartbeat, writeHeartbeat } from '../tasks/worker-registry.ts';
import { matchesAnyGlob, type WorkflowRegistry } from '../workflows/registry.ts';
import { TaskFailure, type Workflow } from '../workflows/workflow.ts';
import { redactFailureStack } from './failure-stack.ts';
import { LogBuffer } from './log-buffer.ts';
import type { ProcessGroups } from './process-groups.ts';
import { Semaphore } from './semaphore.ts';
import { SlotWorker } from './slot-worker.ts';
import { AttemptAborted, runTaskAttempt } from './task-attempt.ts';

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
  readonly redis: RedisConnection;
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
  // Recomputed when the registry changes (workflow files reloaded): see `sync`.
  const servable = () => registry.list().filter((w) => matchesAnyGlob(w.name, config.workflows));
  let served = servable();
  // Shared by the SlotWorkers of all queues: at most `concurrency` tasks run in this process.
  const slots = new Semaphore(config.concurrency);
  const ownerSlots = new OwnerSlots(redis, config.maxPerOwner);
  const subscriber = duplicateConnection(redis);
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
    const lease = config.lockDurationMs;
    if (!(await ownerSlots.hold(owner, taskId, lease))) return null;
    return setInterval(() => {
      ownerSlots.hold(owner, taskId, lease).catch(() => {});
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
        await job.moveToDelayed(OwnerSlots.retryAt(), token);
        throw new DelayedError();
      }
    }
    const releaseOwnerSlot = async () => {
      if (!ownerLease) return;
      clearInterval(ownerLease);
      await ownerSlots.free(meta?.owner as string, taskId);
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

    const logs = new LogBuffer(redis, `${queueKey(workflow.name)}${job.id}:logs`, {
      keepLines: config.maxLogLines,
      lineBytes: config.maxLogLineBytes,
    });
    active.add(taskId);
    try {
      return await runTaskAttempt({
        workflow,
        taskId,
        params: job.data,
        attempt: job.attemptsMade + 1,
        timeoutMs: meta?.timeoutMs,
        signal,
        limits: {
          resultBytes: config.maxResultBytes,
          logLineBytes: config.maxLogLineBytes,
          httpBodyBytes: config.maxHttpBodyBytes,
        },
        log: (text, stream) => logs.push(text, stream),
        // Stamped, so the task's updatedAt moves with its progress.
        progress: (value) => job.updateProgress({ ...value, at: Date.now() }),
      });
    } catch (err) {
      if (!(err instanceof AttemptAborted)) {
        if (err instanceof TaskFailure) {
          await redis.hset(`${queueKey(workflow.name)}${job.id}`, ERROR_CODE_FIELD, err.code);
        }
        throw err;
      }
      if (err.reason === CANCEL) {
        logs.push('Cancelled', 'system');
        throw new UnrecoverableError(CANCELLED_REASON);
      }
      if (err.reason === SHUTDOWN) {
        logs.push('Worker is stopping: task goes back to the queue', 'system');
        await release(job, token);
      }
      throw err.cause;
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

  function processorFor(name: string) {
    // The job's SlotWorker holds a slot for it while this runs. The definition is read when the
    // job starts: a reloaded file applies to new tasks, a running one keeps the one it started on.
    return async (job: Job, token: string | undefined, signal: AbortSignal | undefined) => {
      try {
        const workflow = registry.get(name);
        if (stopping || !workflow) return await release(job, token);
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
      for (const state of FINISHED_STATES) {
        // In batches, so Redis is never blocked for long.
        let removed = 1000;
        while (removed === 1000) removed = await cleanFinished(redis, queue, state, graceMs, 1000);
      }
    }
  }

  /** Global concurrency each served workflow's own definition asked for (files may set one). */
  const definedLimits = new Map<string, number | undefined>();
  async function applyGlobalConcurrency(queue: Queue, workflow: Workflow) {
    const limit = config.globalConcurrency[workflow.name] ?? workflow.concurrency;
    const before = definedLimits.get(workflow.name);
    definedLimits.set(workflow.name, workflow.concurrency);
    if (limit !== undefined) await queue.setGlobalConcurrency(limit);
    // Only a limit a definition set is taken back: one set through the API stays.
    else if (before !== undefined) await queue.removeGlobalConcurrency();
  }

  async function serve(workflow: Workflow): Promise<Worker> {
    const queue = createQueue(workflow.name, redis);
    queues.push(queue);
    await applyGlobalConcurrency(queue, workflow);
    const worker = new SlotWorker(slots, redis, workflow.name, processorFor(workflow.name), {
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
    return worker;
  }

  /** Queue workers of workflows no longer served, until their running tasks are done. */
  const retiring = new Set<Worker>();
  /** Stops taking tasks of `name`; its running tasks finish (on the definition they had). */
  function unserve(name: string): void {
    const worker = workers.get(name);
    workers.delete(name);
    definedLimits.delete(name);
    const at = queues.findIndex((q) => q.name === name);
    const [queue] = at === -1 ? [] : queues.splice(at, 1);
    if (!worker) return;
    retiring.add(worker);
    void worker
      .close()
      .then(() => queue?.close())
      .catch((err) => logger.warn({ err, workflow: name }, 'closing a queue worker failed'))
      .finally(() => retiring.delete(worker));
  }

  /** Serves what the registry has now: new workflows get a queue worker, gone ones lose theirs. */
  async function sync(): Promise<void> {
    if (stopping) return;
    const next = servable();
    const names = new Set(next.map((w) => w.name));
    const leaving = served.filter((w) => !names.has(w.name)).map((w) => w.name);
    const joining: string[] = [];
    served = next;
    for (const name of leaving) unserve(name);
    for (const workflow of next) {
      const queue = queues.find((q) => q.name === workflow.name);
      if (!queue) {
        void (await serve(workflow)).run();
        joining.push(workflow.name);
      } else if (definedLimits.get(workflow.name) !== workflow.concurrency) {
        await applyGlobalConcurrency(queue, workflow);
      }
    }
    if (joining.length > 0 || leaving.length > 0) {
      await beat();
      logger.info({ joining, leaving }, 'served workflows updated');
    }
  }
  let syncing = Promise.resolve();
  let unsubscribe: (() => void) | undefined;

  return {
    id,
    get workflows() {
      return served.map((w) => w.name);
    },
    async start() {
      // A broken file the globs name is no reason to stop: the worker serves it once it loads.
      const awaited = registry.broken().filter((b) => matchesAnyGlob(b.name, config.workflows));
      if (served.length === 0 && awaited.length === 0) {
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
      for (const workflow of served) await serve(workflow);
      unsubscribe = registry.onChange(() => {
        syncing = syncing
          .then(sync)
          .catch((err) => logger.warn({ err }, 'updating the served workflows failed'));
      });
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
      if (served.length === 0) {
        logger.warn(
          { files: awaited.map((b) => b.file) },
          'serving no workflow until a workflow file it is meant to serve loads',
        );
      }
      logger.info(
        { workerId: id, workflows: served.map((w) => w.name), concurrency: config.concurrency },
        'worker ready',
      );
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      unsubscribe?.();
      await syncing;
      clearInterval(sweeper);
      clearInterval(reaper);
      const all = [...workers.values(), ...retiring];
      const closing = Promise.all(all.map((w) => w.close()));
      let graceTimer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace-over'>((resolve) => {
        graceTimer = setTimeout(() => resolve('grace-over'), config.shutdownGraceMs);
      });
      if ((await Promise.race([closing, graceOver])) === 'grace-over') {
        logger.warn(
          { active: [...active] },
          'grace period over: returning active tasks to the queue',
        );
        for (const worker of all) worker.cancelAllJobs(SHUTDOWN);
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
