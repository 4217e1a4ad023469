import type { FieldError } from '@taskdock/shared/contract';

/**
 * An answer the HTTP edge gives on its own (sign-in, request guard, body limits, a missing
 * supervisor): `{ error: { code, message, details } }` with `statusCode`. The engine's errors are
 * engine/errors.ts; plugins/errors.ts maps both.
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: FieldError[] | Record<string, unknown>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
