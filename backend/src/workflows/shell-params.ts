import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { type FieldError, pointerSegment } from '@taskdock/shared/contract';

/**
 * Bounds of a `shell` task's params. Linux refuses any one argument or variable over 128 KiB
 * (MAX_ARG_STRLEN): 32,768 characters stay under it in any UTF-8.
 */
export const SHELL_LIMITS = {
  commandChars: 4096,
  args: 1000,
  argChars: 32_768,
  cwdChars: 4096,
  envVars: 1000,
  envNameChars: 1024,
  envValueChars: 32_768,
} as const;

export const ShellParams = Type.Object(
  {
    command: Type.String({ minLength: 1, maxLength: SHELL_LIMITS.commandChars }),
    args: Type.Optional(
      Type.Array(Type.String({ maxLength: SHELL_LIMITS.argChars }), {
        maxItems: SHELL_LIMITS.args,
        default: [],
      }),
    ),
    cwd: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: SHELL_LIMITS.cwdChars,
        description: 'absolute path of an existing directory',
      }),
    ),
    env: Type.Optional(
      Type.Record(Type.String(), Type.String({ maxLength: SHELL_LIMITS.envValueChars }), {
        maxProperties: SHELL_LIMITS.envVars,
        description: 'laid over the base environment; names without "=" or NUL',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ShellParams = Static<typeof ShellParams>;

const NO_NUL = 'must not contain a NUL character (the OS would cut the string there)';

/**
 * What the OS would refuse, or read otherwise than written, when the task starts: found now, at
 * create time, instead of as a failure when it runs.
 */
export function checkShellParams(params: ShellParams): FieldError[] {
  const errors: FieldError[] = [];
  const hasNul = (text: string) => text.includes('\0');
  if (hasNul(params.command)) errors.push({ path: '/command', message: NO_NUL });
  params.args?.forEach((arg, i) => {
    if (hasNul(arg)) errors.push({ path: `/args/${i}`, message: NO_NUL });
  });
  if (params.cwd !== undefined) {
    if (hasNul(params.cwd)) errors.push({ path: '/cwd', message: NO_NUL });
    else if (!path.isAbsolute(params.cwd)) {
      errors.push({
        path: '/cwd',
        message: 'must be an absolute path (a relative one would depend on where the worker runs)',
      });
    }
  }
  for (const [name, value] of Object.entries(params.env ?? {})) {
    const at = `/env/${pointerSegment(name)}`;
    if (name === '' || name.includes('=') || hasNul(name)) {
      errors.push({
        path: at,
        message: 'is not a usable variable name: it must be non-empty, without "=" or NUL',
      });
    } else if (name.length > SHELL_LIMITS.envNameChars) {
      errors.push({
        path: at,
        message: `is a variable name longer than ${SHELL_LIMITS.envNameChars} characters`,
      });
    }
    if (hasNul(value)) errors.push({ path: at, message: NO_NUL });
  }
  return errors;
}
