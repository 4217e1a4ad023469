import type { FieldError } from '../contract/index.ts';

/** An error the API shows as `{ error: { code, message, details } }` with `statusCode`. */
export class TaskdockError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: FieldError[] | Record<string, unknown>,
  ) {
    super(message);
    this.name = 'TaskdockError';
  }
}

export const notFound = (id: string) =>
  new TaskdockError(404, 'NOT_FOUND', `No task with id "${id}"`);
