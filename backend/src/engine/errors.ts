import { describeFieldErrors, type FieldError } from '@taskdock/shared/contract';

/**
 * What the engine throws when a request cannot be done. It knows nothing of HTTP: the API maps
 * each kind to a status in one place (plugins/errors.ts).
 */
export abstract class EngineError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** No task (or schedule) has that id. */
export class NotFoundError extends EngineError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

export const taskNotFound = (id: string) => new NotFoundError(`No task with id "${id}"`);

/** Why a request clashes with the task's present state. */
export type ConflictCode =
  | 'ALREADY_FINISHED'
  | 'NOT_RETRYABLE'
  | 'TASK_LOCKED'
  | 'IDEMPOTENCY_CONFLICT'
  /** A remote worker's lease is no longer the task's current one (expired, or re-leased). */
  | 'LEASE_LOST'
  /** A remote worker completes a task that was cancelled meanwhile. */
  | 'TASK_CANCELLED'
  /** A remote workflow would take the name of a built-in or file workflow. */
  | 'NAME_TAKEN'
  /** A bounded collection is full (e.g. worker tokens). */
  | 'LIMIT_REACHED'
  /** A setting the environment decides (e.g. TASKDOCK_HOST over the remote workers setting). */
  | 'SET_BY_ENVIRONMENT';

/** The task exists, but its state forbids the request (or another request holds it). */
export class ConflictError extends EngineError {
  declare readonly code: ConflictCode;
  constructor(code: ConflictCode, message: string) {
    super(code, message);
  }
}

/** The caller is known but may not do this (a worker token outside its workflows). */
export class ForbiddenError extends EngineError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

/** The engine in use cannot do this at all (e.g. remote workers without the Redis store). */
export class UnsupportedError extends EngineError {
  constructor(message: string) {
    super('NOT_SUPPORTED', message);
  }
}

/** The engine is full for now (memory mode's cap on unfinished tasks): try again later. */
export class CapacityError extends EngineError {
  constructor(message: string) {
    super('CAPACITY_EXCEEDED', message);
  }
}

/**
 * Fewer Redis replicas than TASKDOCK_REDIS_MIN_REPLICAS confirmed a write in time: the write
 * happened, but a failover now could lose it.
 */
export class ReplicationTimeoutError extends EngineError {
  constructor(message: string) {
    super('REPLICATION_TIMEOUT', message);
  }
}

/**
 * The input is wrong; `fields` say where, with JSON-pointer paths relative to the input the
 * engine was given (`/params/ms`, `/tasks/3/workflow`, `/pattern`).
 */
export class InvalidInputError extends EngineError {
  constructor(
    code: string,
    /** The message without the field list. */
    readonly headline: string,
    readonly fields: readonly FieldError[] = [],
    /** Whether the message ends with the fields (`headline: /params/ms is required; …`). */
    readonly listsFields = false,
  ) {
    super(code, listsFields ? `${headline}: ${describeFieldErrors(fields)}` : headline);
  }

  /** The same error about an input nested at `prefix` (e.g. `/tasks/3`, or `/body` for HTTP). */
  under(prefix: string): InvalidInputError {
    const fields = this.fields.map((f) => ({ ...f, path: `${prefix}${f.path}` }));
    return new InvalidInputError(this.code, this.headline, fields, this.listsFields);
  }
}
