import type { WorkerInfo } from '@taskdock/shared/contract';
import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import { InvalidInputError } from '../engine/errors.ts';
import { remoteWorkerLeasesKey, workerKey } from '../tasks/keys.ts';
import { writeHeartbeat } from '../tasks/worker-registry.ts';

/** A lost worker stays in the workers table this long, so users see what happened. */
const LOST_SHOWN_MS = 10 * 60_000;
/** How long a worker's leases-held record outlives its last call. */
const LEASES_TTL_MS = 24 * 3600_000;
/** Heartbeat-path writes of one worker's record happen at most this often per host. */
const WRITE_EVERY_MS = 1000;

export interface RemoteWorkerCall {
  readonly workerId: string;
  readonly address: string;
  readonly tokenName?: string;
  /** The workflows it asked to lease (names, resolved from its globs). */
  readonly workflows?: readonly string[];
  /** The `max` of its lease request. */
  readonly concurrency?: number;
}

/**
 * Remote workers in the same registry as local ones (tasks/worker-registry.ts), so the workers
 * table, `/api/stats`, readiness and each workflow's worker count show them. A record lives
 * as long as a lease plus a long-poll from the worker's last call; a worker whose lease expired
 * is shown "lost" for a while.
 */
export class RemoteWorkers {
  readonly #redis: RedisConnection;
  readonly #ttlMs: number;
  readonly #lastWrite = new Map<string, number>();

  constructor(redis: RedisConnection, ttlMs: number) {
    this.#redis = redis;
    this.#ttlMs = ttlMs;
  }

  /** A remote worker may not take the id of a live local worker (its record would be overwritten). */
  async checkId(workerId: string): Promise<void> {
    const previous = await this.#read(workerId);
    if (previous && !previous.remote) {
      throw new InvalidInputError('WORKER_ID_TAKEN', `"${workerId}" is a local worker's id`, [
        { path: '/workerId', message: 'is the id of a local worker; choose another' },
      ]);
    }
  }

  async leased(workerId: string, leaseId: string, taskId: string): Promise<void> {
    const key = remoteWorkerLeasesKey(workerId);
    await this.#redis.multi().hset(key, leaseId, taskId).pexpire(key, LEASES_TTL_MS).exec();
  }

  async ended(workerId: string, leaseId: string): Promise<void> {
    await this.#redis.hdel(remoteWorkerLeasesKey(workerId), leaseId);
  }

  /** Records a call; `force` writes even if this host wrote the record a moment ago. */
  async seen(call: RemoteWorkerCall, force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - (this.#lastWrite.get(call.workerId) ?? 0) < WRITE_EVERY_MS) return;
    this.#lastWrite.set(call.workerId, now);
    const previous = await this.#read(call.workerId);
    const held = await this.#redis.hvals(remoteWorkerLeasesKey(call.workerId));
    const info: WorkerInfo = {
      id: call.workerId,
      host: call.address,
      pid: 0,
      workflows: [...(call.workflows ?? previous?.workflows ?? [])],
      concurrency: call.concurrency ?? previous?.concurrency ?? 1,
      running: held.length,
      activeTasks: held,
      startedAt: previous?.startedAt ?? new Date(now).toISOString(),
      lastSeenAt: new Date(now).toISOString(),
      remote: {
        address: call.address,
        ...(call.tokenName === undefined ? {} : { tokenName: call.tokenName }),
        leases: held.length,
        lastHeartbeatAt: new Date(now).toISOString(),
        lost: false,
      },
    };
    await writeHeartbeat(this.#redis, info, this.#ttlMs);
  }

  /** A lease of the worker expired: its task is no longer held, and the worker is shown lost. */
  async lost(workerId: string, taskId: string): Promise<void> {
    const key = remoteWorkerLeasesKey(workerId);
    const leases = await this.#redis.hgetall(key);
    const gone = Object.keys(leases).filter((leaseId) => leases[leaseId] === taskId);
    if (gone.length > 0) await this.#redis.hdel(key, ...gone);
    const previous = await this.#read(workerId);
    const held = Object.entries(leases).flatMap(([id, task]) => (gone.includes(id) ? [] : [task]));
    const lastSeenAt = previous?.lastSeenAt ?? new Date().toISOString();
    const info: WorkerInfo = {
      id: workerId,
      host: previous?.host ?? 'unknown',
      pid: 0,
      workflows: previous?.workflows ?? [],
      concurrency: previous?.concurrency ?? 1,
      running: held.length,
      activeTasks: held,
      startedAt: previous?.startedAt ?? lastSeenAt,
      lastSeenAt,
      remote: {
        address: previous?.remote?.address ?? previous?.host ?? 'unknown',
        ...(previous?.remote?.tokenName === undefined
          ? {}
          : { tokenName: previous.remote.tokenName }),
        leases: held.length,
        lastHeartbeatAt: previous?.remote?.lastHeartbeatAt ?? lastSeenAt,
        lost: true,
      },
    };
    this.#lastWrite.delete(workerId);
    await writeHeartbeat(this.#redis, info, LOST_SHOWN_MS);
  }

  async #read(workerId: string): Promise<WorkerInfo | undefined> {
    const text = await this.#redis.get(workerKey(workerId));
    return text ? (JSON.parse(text) as WorkerInfo) : undefined;
  }
}
