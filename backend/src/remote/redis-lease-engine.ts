import { randomBytes } from 'node:crypto';
import {
  type CommTask,
  type CommUpdate,
  type CompleteLease,
  type CreateWorkerToken,
  type DeclareWorkflow,
  type FailLease,
  type FieldError,
  type Heartbeat,
  LEASE_LIMITS,
  type Lease,
  type LeaseRequest,
  type ReleaseLease,
  type Task,
} from '@taskdock/shared/contract';
import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import { Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
} from '../engine/errors.ts';
import type { TaskEngine } from '../engine/task-engine.ts';
import {
  CANCELLED_REASON,
  cancelKey,
  commLeaseKey,
  formatTaskId,
  leaseKey,
  QUEUE_EVENTS_MAX_LEN,
  queueKey,
  STARTED_EVENT,
} from '../tasks/keys.ts';
import { OwnerSlots } from '../tasks/owner-slots.ts';
import { defineScripts } from '../tasks/scripts.ts';
import { ERROR_CODE_FIELD, type TaskMeta } from '../tasks/task-mapper.ts';
import { LogBuffer } from '../worker/log-buffer.ts';
import { capResult } from '../worker/result-cap.ts';
import { matchesAnyGlob, type WorkflowRegistry } from '../workflows/registry.ts';
import type { LeaseCaller, LeaseEngine, LeaseObserver } from './lease-engine.ts';
import { type LeaseQueue, LeaseQueues } from './lease-queues.ts';
import { LeaseWaker } from './lease-waker.ts';
import { RemoteWorkers } from './remote-workers.ts';
import type { RemoteWorkflows } from './remote-workflows.ts';
import { WorkerTokens } from './worker-tokens.ts';

export type LeaseConfig = Pick<
  Config,
  'leaseMs' | 'maxStalls' | 'maxPerOwner' | 'maxResultBytes' | 'maxLogLines' | 'maxLogLineBytes'
>;

export interface RedisLeaseEngineOptions {
  readonly redis: RedisConnection;
  /** The task engine on the same Redis: tasks are read through it. */
  readonly engine: Pick<TaskEngine, 'get'>;
  /** Built-in and file workflows: remote ones never take their names. */
  readonly local: WorkflowRegistry;
  readonly remote: RemoteWorkflows;
  readonly config: LeaseConfig;
  readonly logger: Logger;
  readonly observer?: LeaseObserver;
}

/** Lease records outlive the lease, so a late call is a 409 LEASE_LOST rather than a 404. */
const LEASE_RECORD_TTL_MS = 24 * 3600_000;
/** A waiting long-poll looks again this often even without a wake-up (delayed tasks coming due). */
const RECHECK_MS = 1000;

interface LeaseRecord {
  readonly leaseId: string;
  readonly taskId: string;
  readonly queue: string;
  readonly jobId: string;
  readonly workerId: string;
  readonly takenAt: number;
  /** The task's owner: the lease holds one of its slots (TASKDOCK_MAX_PER_OWNER). */
  readonly owner?: string;
}

const leaseLost = (leaseId: string, why: string) =>
  new ConflictError('LEASE_LOST', `Lease ${leaseId} is no longer the task's current one: ${why}`);

const stalledMessage = (maxStalls: number) =>
  `Its lease expired ${maxStalls} times (TASKDOCK_MAX_STALLS): the workers holding it stopped calling`;

const hasGlob = (pattern: string) => /[*?]/.test(pattern);

/** What the workers table records of a call. */
const callOf = (caller: LeaseCaller, workerId: string) => ({
  workerId,
  address: caller.address,
  ...(caller.token ? { tokenName: caller.token.name } : {}),
});

/** BullMQ's scripts refuse a stale token with these messages. */
const LOCK_ERROR = /Missing lock|Lock mismatch|not in the active state|Missing key/i;

/** The lease protocol on Redis and BullMQ (remote/lease-engine.ts), started; `close()` stops it. */
export async function createRedisLeaseEngine(
  options: RedisLeaseEngineOptions,
): Promise<LeaseEngine> {
  const { engine, local, remote, config, logger, observer } = options;
  const redis = defineScripts(options.redis);
  const tokens = new WorkerTokens(redis);
  // Remote tasks count against their owner's limit like local ones (one set per owner).
  const ownerSlots = new OwnerSlots(redis, config.maxPerOwner);
  const workers = new RemoteWorkers(redis, config.leaseMs * 2 + LEASE_LIMITS.maxWaitMs);
  const queues = new LeaseQueues({
    redis,
    leaseMs: config.leaseMs,
    maxStalls: config.maxStalls,
    logger,
    onStalled: (queue, jobId) =>
      void expired(queue, jobId).catch((err) =>
        logger.warn({ err, queue, jobId }, 'handling an expired lease failed'),
      ),
  });
  const waker = new LeaseWaker(redis, () => remote.queues(), logger);
  const followQueues = () => {
    queues.sync(remote.queues());
    waker.follow(remote.queues());
  };
  remote.onChange(followQueues);
  followQueues();
  waker.start();

  const logsOf = (record: Pick<LeaseRecord, 'queue' | 'jobId'>) =>
    new LogBuffer(redis, `${queueKey(record.queue)}${record.jobId}:logs`, {
      keepLines: config.maxLogLines,
      lineBytes: config.maxLogLineBytes,
    });

  async function writeLogs(
    record: LeaseRecord,
    lines: readonly string[],
    stream: 'stdout' | 'system' = 'stdout',
  ) {
    if (lines.length === 0) return;
    const logs = logsOf(record);
    for (const line of lines) await logs.push(line, stream);
    await logs.flush();
  }

  /** A lease expired: no attempt counted; a cancelled task ends cancelled, one past maxStalls STALLED. */
  async function expired(queue: string, jobId: string): Promise<void> {
    observer?.expired();
    const taskId = formatTaskId(queue, jobId);
    const hashKey = `${queueKey(queue)}${jobId}`;
    const [, [, fields], [, cancelled]] = (await redis
      .multi()
      .hincrby(hashKey, 'ats', -1)
      .hmget(hashKey, 'pb', 'defa')
      .exists(cancelKey(taskId))
      .exec()) as [unknown, [unknown, (string | null)[]], [unknown, number]];
    const [workerId, deferredFailure] = fields;
    await writeLogs(
      { queue, jobId } as LeaseRecord,
      [`Lease of ${workerId ?? 'a remote worker'} expired: task goes back to the queue`],
      'system',
    );
    if (cancelled === 1) {
      await redis.taskdockCancelQueued(
        queueKey(queue),
        jobId,
        CANCELLED_REASON,
        QUEUE_EVENTS_MAX_LEN,
      );
    } else if (deferredFailure) {
      await failStalled(queue, jobId);
    }
    if (workerId) await workers.lost(workerId, taskId);
  }

  async function failStalled(queue: string, jobId: string): Promise<void> {
    const hashKey = `${queueKey(queue)}${jobId}`;
    // A retry by the user starts its stall count afresh.
    await redis
      .multi()
      .hset(hashKey, ERROR_CODE_FIELD, 'STALLED', 'stc', 0)
      .hdel(hashKey, 'defa')
      .exec();
    await redis.taskdockCancelQueued(
      queueKey(queue),
      jobId,
      stalledMessage(config.maxStalls),
      QUEUE_EVENTS_MAX_LEN,
    );
  }

  /** The remote queues a lease request reaches; 403 for a name outside the caller's token. */
  function reachable(
    caller: LeaseCaller,
    patterns: readonly string[],
    path = '/workflows',
  ): string[] {
    const known = remote.queues();
    const problems: FieldError[] = [];
    patterns.forEach((pattern, i) => {
      if (hasGlob(pattern)) return;
      if (caller.token && !matchesAnyGlob(pattern, caller.token.workflows)) {
        throw new ForbiddenError(
          `Worker token "${caller.token.name}" may not lease "${pattern}" (its workflows: ${caller.token.workflows.join(', ')})`,
        );
      }
      if (!known.includes(pattern)) {
        problems.push({ path: `${path}/${i}`, message: `"${pattern}" is not a remote workflow` });
      }
    });
    if (problems.length > 0) {
      throw new InvalidInputError(
        'NOT_REMOTE',
        'Leases come from remote workflows only',
        problems,
        true,
      );
    }
    return known.filter(
      (q) =>
        matchesAnyGlob(q, patterns) && (!caller.token || matchesAnyGlob(q, caller.token.workflows)),
    );
  }

  async function lookup(caller: LeaseCaller, leaseId: string): Promise<LeaseRecord> {
    const raw = await redis.hgetall(leaseKey(leaseId));
    if (!raw.taskId) throw new NotFoundError(`No lease with id "${leaseId}"`);
    const record: LeaseRecord = {
      leaseId,
      taskId: raw.taskId,
      queue: raw.queue as string,
      jobId: raw.jobId as string,
      workerId: raw.workerId as string,
      takenAt: Number(raw.takenAt),
      ...(raw.owner === undefined ? {} : { owner: raw.owner }),
    };
    if (caller.token && !matchesAnyGlob(record.queue, caller.token.workflows)) {
      throw new ForbiddenError(
        `Worker token "${caller.token.name}" does not serve workflow "${record.queue}"`,
      );
    }
    return record;
  }

  const isCancelRequested = async (taskId: string) => (await redis.exists(cancelKey(taskId))) === 1;

  /** The job, still locked by this lease (LEASE_LOST otherwise), and whether it is cancelled. */
  async function heldJob(record: LeaseRecord): Promise<{ job: Job; cancelRequested: boolean }> {
    const [lock, job, cancelRequested] = await Promise.all([
      redis.get(`${queueKey(record.queue)}${record.jobId}:lock`),
      Job.fromId(queues.get(record.queue).queue, record.jobId),
      isCancelRequested(record.taskId),
    ]);
    if (lock !== record.leaseId) {
      await workers.ended(record.workerId, record.leaseId);
      throw leaseLost(
        record.leaseId,
        lock ? 'another worker holds the task now' : 'it expired or ended',
      );
    }
    if (!job) throw leaseLost(record.leaseId, 'the task was deleted');
    return { job, cancelRequested };
  }

  /** Runs a BullMQ move that checks the lock (a refused token is LEASE_LOST); the lease ends. */
  async function move(
    caller: LeaseCaller,
    record: LeaseRecord,
    run: () => Promise<unknown>,
  ): Promise<void> {
    try {
      await run();
    } catch (err) {
      if (LOCK_ERROR.test((err as Error).message)) {
        throw leaseLost(record.leaseId, 'it expired or another worker holds the task');
      }
      throw err;
    } finally {
      if (record.owner !== undefined) await ownerSlots.free(record.owner, record.taskId);
      await workers.ended(record.workerId, record.leaseId);
      // Throttled: a busy worker's record follows within a second, not on every task.
      await workers.seen(callOf(caller, record.workerId));
    }
    observer?.ended(Date.now() - record.takenAt);
  }

  async function endCancelled(caller: LeaseCaller, record: LeaseRecord, job: Job): Promise<void> {
    await writeLogs(record, ['Cancelled'], 'system');
    await move(caller, record, () =>
      job.moveToFailed(new UnrecoverableError(CANCELLED_REASON), record.leaseId),
    );
  }

  async function readTask(taskId: string): Promise<Task> {
    const task = await engine.get(taskId);
    if (!task) throw new NotFoundError(`No task with id "${taskId}"`);
    return task;
  }

  /** One job of `queue` leased to the worker, or null when none is ready. */
  async function takeOne(
    caller: LeaseCaller,
    lq: LeaseQueue,
    queue: string,
    workerId: string,
    durationMs: number,
  ): Promise<LeaseRecord | null | 'skipped'> {
    const leaseId = randomBytes(24).toString('base64url');
    const job = await lq.take(leaseId, workerId);
    if (!job) return null;
    const owner = (job.opts as { taskdock?: TaskMeta }).taskdock?.owner;
    const record: LeaseRecord = {
      leaseId,
      taskId: formatTaskId(queue, job.id as string),
      queue,
      jobId: job.id as string,
      workerId,
      takenAt: Date.now(),
      ...(owner === undefined ? {} : { owner }),
    };
    if (job.deferredFailure) {
      await failStalledHeld(record, job);
      return 'skipped';
    }
    if (owner !== undefined && !(await ownerSlots.hold(owner, record.taskId, durationMs))) {
      // The owner is at its limit: back for a moment, unlocked, as a local worker does; no
      // attempt counted and no started event (the relay keeps it queued).
      await job.moveToDelayed(OwnerSlots.retryAt(), leaseId);
      await redis.hincrby(`${queueKey(queue)}${record.jobId}`, 'ats', -1);
      return 'skipped';
    }
    const [, cancelled] = await Promise.all([
      redis
        .multi()
        .hset(leaseKey(leaseId), {
          taskId: record.taskId,
          queue,
          jobId: record.jobId,
          workerId,
          takenAt: record.takenAt,
          ...(owner === undefined ? {} : { owner }),
        })
        .pexpire(leaseKey(leaseId), LEASE_RECORD_TTL_MS)
        .exec(),
      // A task with an owner shows as running once its worker says it started (the relay waits
      // for that event, as local workers may put such a task back for an owner slot).
      owner === undefined
        ? isCancelRequested(record.taskId)
        : redis
            .taskdockStartTask(
              cancelKey(record.taskId),
              `${queueKey(queue)}events`,
              record.jobId,
              QUEUE_EVENTS_MAX_LEN,
              STARTED_EVENT,
            )
            .then((cancelled) => cancelled === 1),
      workers.leased(workerId, leaseId, record.taskId),
    ]);
    if (cancelled) {
      await endCancelled(caller, record, job);
      return 'skipped';
    }
    if (durationMs !== config.leaseMs) await lq.extend(record.jobId, leaseId, durationMs);
    observer?.leased();
    return record;
  }

  /** BullMQ marked it to fail at its next start (past maxStalls): it fails now, never handed out. */
  async function failStalledHeld(record: LeaseRecord, job: Job): Promise<void> {
    const hashKey = `${queueKey(record.queue)}${record.jobId}`;
    await redis
      .multi()
      .hset(hashKey, ERROR_CODE_FIELD, 'STALLED', 'stc', 0)
      .hdel(hashKey, 'defa')
      .exec();
    const error = new UnrecoverableError(stalledMessage(config.maxStalls));
    error.stack = '';
    await job.moveToFailed(error, record.leaseId);
  }

  /** Up to `max` leases over `names`, round robin from a random queue; none: []. */
  async function takeMany(
    caller: LeaseCaller,
    names: readonly string[],
    workerId: string,
    max: number,
    durationMs: number,
  ): Promise<LeaseRecord[]> {
    const taken: LeaseRecord[] = [];
    const open = [...names];
    let at = Math.floor(Math.random() * open.length);
    while (taken.length < max && open.length > 0) {
      at %= open.length;
      const queue = open[at] as string;
      const got = await takeOne(caller, queues.get(queue), queue, workerId, durationMs);
      if (got === null) open.splice(at, 1);
      else {
        if (got !== 'skipped') taken.push(got);
        at++;
      }
    }
    return taken;
  }

  async function toLease(record: LeaseRecord, durationMs: number): Promise<Lease> {
    return {
      leaseId: record.leaseId,
      task: await readTask(record.taskId),
      expiresAt: new Date(record.takenAt + durationMs).toISOString(),
      heartbeatIntervalMs: Math.max(100, Math.floor(durationMs / 3)),
    };
  }

  async function giveBack(
    caller: LeaseCaller,
    record: LeaseRecord,
    job: Job,
    delayMs: number,
  ): Promise<void> {
    await move(caller, record, () =>
      delayMs > 0
        ? job.moveToDelayed(Date.now() + delayMs, record.leaseId)
        : job.moveToWait(record.leaseId),
    );
    // BullMQ counted a start when the lease was taken: a release is no attempt.
    await redis.hincrby(`${queueKey(record.queue)}${record.jobId}`, 'ats', -1);
  }

  async function lease(
    caller: LeaseCaller,
    input: LeaseRequest,
    signal?: AbortSignal,
    durationMs = config.leaseMs,
  ) {
    const names = reachable(caller, input.workflows);
    await workers.checkId(input.workerId);
    const max = input.max ?? 1;
    const call = { ...callOf(caller, input.workerId), workflows: names, concurrency: max };
    const deadline = Date.now() + (input.waitMs ?? 0);
    const waiter = (input.waitMs ?? 0) > 0 ? waker.register(names) : null;
    try {
      for (;;) {
        const taken =
          names.length === 0 ? [] : await takeMany(caller, names, input.workerId, max, durationMs);
        if (taken.length > 0 && signal?.aborted) {
          // The client is gone: its leases would only wait for expiry.
          for (const record of taken)
            await giveBack(caller, record, (await heldJob(record)).job, 0);
          return [];
        }
        const left = deadline - Date.now();
        if (taken.length > 0 || !waiter || left <= 0 || signal?.aborted) {
          await workers.seen(call, taken.length > 0);
          return Promise.all(taken.map((record) => toLease(record, durationMs)));
        }
        await workers.seen(call);
        await waiter.wait(Math.min(left, RECHECK_MS), signal);
      }
    } finally {
      waiter?.done();
    }
  }

  async function heartbeat(
    caller: LeaseCaller,
    leaseId: string,
    input: Heartbeat,
    durationMs = config.leaseMs,
  ) {
    const record = await lookup(caller, leaseId);
    const lq = queues.get(record.queue);
    if (!(await lq.extend(record.jobId, leaseId, durationMs))) {
      await workers.ended(record.workerId, leaseId);
      throw leaseLost(leaseId, 'it expired or ended');
    }
    const expiresAt = new Date(Date.now() + durationMs).toISOString();
    await Promise.all([
      // The owner's slot lives as long as the lease: one that expires frees it by itself.
      record.owner === undefined
        ? undefined
        : ownerSlots.hold(record.owner, record.taskId, durationMs),
      input.progress ? lq.queue.updateJobProgress(record.jobId, input.progress) : undefined,
      writeLogs(record, input.logs ?? []),
      workers.seen(callOf(caller, record.workerId)),
    ]);
    return { expiresAt, cancelRequested: await isCancelRequested(record.taskId) };
  }

  async function complete(caller: LeaseCaller, leaseId: string, input: CompleteLease) {
    const record = await lookup(caller, leaseId);
    const { job, cancelRequested } = await heldJob(record);
    if (cancelRequested) {
      await endCancelled(caller, record, job);
      throw new ConflictError(
        'TASK_CANCELLED',
        `Task ${record.taskId} was cancelled; its result is not kept`,
      );
    }
    await writeLogs(record, input.logs ?? []);
    const result = input.result ?? null;
    const stored = capResult(result, config.maxResultBytes);
    if (stored !== result) {
      await writeLogs(
        record,
        [`Result is over TASKDOCK_MAX_RESULT_BYTES (${config.maxResultBytes}): stored truncated`],
        'system',
      );
    }
    await redis.hdel(`${queueKey(record.queue)}${record.jobId}`, ERROR_CODE_FIELD);
    await move(caller, record, () => job.moveToCompleted(stored, leaseId, false));
    return readTask(record.taskId);
  }

  async function fail(caller: LeaseCaller, leaseId: string, input: FailLease) {
    const record = await lookup(caller, leaseId);
    const { job, cancelRequested } = await heldJob(record);
    if (cancelRequested) {
      await endCancelled(caller, record, job);
      return readTask(record.taskId);
    }
    await writeLogs(record, input.logs ?? []);
    await writeLogs(record, [input.error.message], 'system');
    const hashKey = `${queueKey(record.queue)}${record.jobId}`;
    if (input.error.code) await redis.hset(hashKey, ERROR_CODE_FIELD, input.error.code);
    else await redis.hdel(hashKey, ERROR_CODE_FIELD);
    const error =
      input.retryable === false
        ? new UnrecoverableError(input.error.message)
        : new Error(input.error.message);
    // The failure happened on the remote worker: no stack of this process belongs to it.
    error.stack = '';
    await move(caller, record, () => job.moveToFailed(error, leaseId, false));
    return readTask(record.taskId);
  }

  async function release(caller: LeaseCaller, leaseId: string, input: ReleaseLease) {
    const record = await lookup(caller, leaseId);
    const { job, cancelRequested } = await heldJob(record);
    if (cancelRequested) {
      await endCancelled(caller, record, job);
      return readTask(record.taskId);
    }
    await writeLogs(record, [`Released by ${record.workerId}: back in the queue`], 'system');
    await giveBack(caller, record, job, input.delayMs ?? 0);
    return readTask(record.taskId);
  }

  const commWorkerId = (caller: LeaseCaller) => `comm@${caller.token?.name ?? 'main'}`;

  async function commLease(taskId: string): Promise<string> {
    const leaseId = await redis.get(commLeaseKey(taskId));
    if (!leaseId) {
      throw new NotFoundError(`Task ${taskId} was not fetched with /api/comm/task/fetch`);
    }
    return leaseId;
  }

  return {
    createToken: (input: CreateWorkerToken) => tokens.create(input),
    listTokens: () => tokens.list(),
    revokeToken: (id: string) => tokens.revoke(id),
    verifyToken: (token: string) => tokens.verify(token),

    async declareWorkflow(caller: LeaseCaller, name: string, input: DeclareWorkflow) {
      if (caller.token && !matchesAnyGlob(name, caller.token.workflows)) {
        throw new ForbiddenError(`Worker token "${caller.token.name}" may not declare "${name}"`);
      }
      const declared = await remote.declare(name, input, local);
      queues.sync([name]);
      return declared;
    },
    async removeWorkflow(caller: LeaseCaller, name: string) {
      if (caller.token && !matchesAnyGlob(name, caller.token.workflows)) {
        throw new ForbiddenError(`Worker token "${caller.token.name}" may not remove "${name}"`);
      }
      if (local.get(name)) {
        throw new ConflictError(
          'NAME_TAKEN',
          `"${name}" is not a remote workflow; it cannot be removed here`,
        );
      }
      await remote.remove(name);
    },

    lease: (caller: LeaseCaller, input: LeaseRequest, signal?: AbortSignal) =>
      lease(caller, input, signal),
    heartbeat: (caller: LeaseCaller, leaseId: string, input: Heartbeat) =>
      heartbeat(caller, leaseId, input),
    complete,
    fail,
    release,

    async commFetch(
      caller: LeaseCaller,
      workflowNames: readonly string[],
    ): Promise<CommTask | null> {
      const [got] = await lease(
        caller,
        { workerId: commWorkerId(caller), workflows: [...workflowNames], max: 1, waitMs: 0 },
        undefined,
        LEASE_LIMITS.commLeaseMs,
      );
      if (!got) return null;
      await redis.set(commLeaseKey(got.task.id), got.leaseId, 'PX', LEASE_RECORD_TTL_MS);
      return {
        taskId: got.task.id,
        workflow: got.task.workflow,
        params: got.task.params,
        status: 'FETCHED',
        createdAt: got.task.createdAt,
      };
    },
    async commUpdate(caller: LeaseCaller, input: CommUpdate): Promise<Task> {
      const leaseId = await commLease(input.taskId);
      const progress =
        typeof input.progress === 'number' ? { percent: input.progress } : input.progress;
      const error =
        typeof input.error === 'string'
          ? { message: input.error }
          : (input.error ?? { message: 'Failed' });
      switch (input.status) {
        case 'PROCESSING':
          await heartbeat(caller, leaseId, progress ? { progress } : {}, LEASE_LIMITS.commLeaseMs);
          return readTask(input.taskId);
        case 'COMPLETED':
          return complete(caller, leaseId, { result: input.outputData ?? null });
        case 'FAILED':
          return fail(caller, leaseId, { error });
      }
    },

    async close() {
      await waker.stop();
      await queues.close();
    },
  };
}
