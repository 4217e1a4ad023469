import type {
  CommTask,
  CommUpdate,
  CompleteLease,
  CreatedWorkerToken,
  CreateWorkerToken,
  DeclareWorkflow,
  FailLease,
  Heartbeat,
  HeartbeatAnswer,
  Lease,
  LeaseRequest,
  ReleaseLease,
  RemoteWorkflow,
  Task,
  WorkerToken,
} from '@taskdock/shared/contract';

/** Who calls: the main token (or a browser session) may do anything, a worker token its globs. */
export interface LeaseCaller {
  /** The worker token's record; undefined for the main token or a session. */
  readonly token?: WorkerTokenIdentity;
  /** The client's address, shown in the workers table. */
  readonly address: string;
}

/** What a verified worker token names. */
export interface WorkerTokenIdentity {
  readonly id: string;
  readonly name: string;
  readonly workflows: readonly string[];
}

/**
 * Remote workers over HTTP: worker tokens, remote workflow declarations and the lease protocol
 * (docs/remote-workers.md). Failures are EngineErrors: NotFoundError (unknown lease, token or
 * declaration), ForbiddenError (a worker token outside its workflows), ConflictError LEASE_LOST /
 * TASK_CANCELLED / NAME_TAKEN, InvalidInputError with paths relative to the input given here.
 * The Redis one is `createRedisLeaseEngine` (remote/redis-lease-engine.ts).
 */
export interface LeaseEngine {
  /** A new worker token; the answer is the only place its secret appears. */
  createToken(input: CreateWorkerToken): Promise<CreatedWorkerToken>;
  listTokens(): Promise<WorkerToken[]>;
  /** Revokes at once: the next request with it is a 401. */
  revokeToken(id: string): Promise<void>;
  /** The token's identity, or null when no live worker token is this one. */
  verifyToken(token: string): Promise<WorkerTokenIdentity | null>;

  /** Declares (or replaces) a remote workflow; ConflictError NAME_TAKEN for a local one. */
  declareWorkflow(
    caller: LeaseCaller,
    name: string,
    input: DeclareWorkflow,
  ): Promise<RemoteWorkflow>;
  /** New tasks of it are refused from now on; queued ones can still be leased. */
  removeWorkflow(caller: LeaseCaller, name: string): Promise<void>;

  /** Up to `max` tasks, waiting up to `waitMs` for one (sooner when `signal` aborts). */
  lease(caller: LeaseCaller, input: LeaseRequest, signal?: AbortSignal): Promise<Lease[]>;
  heartbeat(caller: LeaseCaller, leaseId: string, input: Heartbeat): Promise<HeartbeatAnswer>;
  complete(caller: LeaseCaller, leaseId: string, input: CompleteLease): Promise<Task>;
  fail(caller: LeaseCaller, leaseId: string, input: FailLease): Promise<Task>;
  /** Back in the queue (after `delayMs`), no attempt counted. */
  release(caller: LeaseCaller, leaseId: string, input: ReleaseLease): Promise<Task>;

  /** The fetch/update compatibility style: one task leased for 300 s, or null. */
  commFetch(caller: LeaseCaller, workflowNames: readonly string[]): Promise<CommTask | null>;
  commUpdate(caller: LeaseCaller, input: CommUpdate): Promise<Task>;

  close(): Promise<void>;
}

/** What metrics learn of leases (metrics.ts). */
export interface LeaseObserver {
  /** A lease was handed out. */
  leased(): void;
  /** A lease ended by complete, fail or release, `ms` after it was taken (the round trip). */
  ended(ms: number): void;
  /** A lease expired (a stall), seen by this backend's stalled check. */
  expired(): void;
}
