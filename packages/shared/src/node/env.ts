/** A process environment as entry files pass it on (`process.env`, or a test's own object). */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Variables of the OS a child may need (PATH for shell tasks, SystemRoot for Windows sockets …):
 * what the supervisor's children and a shell task inherit; nothing else of the environment
 * leaks into them.
 */
export const OS_ENV_KEYS = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'TEMP',
  'TMP',
  'SystemRoot',
  'SystemDrive',
  'ComSpec',
  'PATHEXT',
  'WINDIR',
  'USERPROFILE',
  'APPDATA',
  'LOCALAPPDATA',
] as const;

/** The variables of `keys` that `env` sets, and no others. */
export function pickEnv(env: Env, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    keys.flatMap((key) => {
      const value = env[key];
      return value === undefined ? [] : [[key, value]];
    }),
  );
}
