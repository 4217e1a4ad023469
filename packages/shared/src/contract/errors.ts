import { type Static, Type } from '@sinclair/typebox';

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  }),
});
export type ErrorBody = Static<typeof ErrorBody>;

/** One failing input field: `path` is a JSON pointer into the request, e.g. `/body/params/command`. */
export const FieldError = Type.Object({ path: Type.String(), message: Type.String() });
export type FieldError = Static<typeof FieldError>;

/** One key as a segment of a JSON pointer (RFC 6901: `~` → `~0`, `/` → `~1`). */
export const pointerSegment = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

/** Field errors in one line, as error messages end with them: `/params/ms is required; …`. */
export const describeFieldErrors = (fields: readonly FieldError[]) =>
  fields.map((f) => `${f.path} ${f.message}`).join('; ');
