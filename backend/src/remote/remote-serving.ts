import type {
  FieldError,
  RemoteServingSetting,
  RemoteServingStatus,
} from '@taskdock/shared/contract';
import {
  readRemoteServing,
  servingEnv,
  writeRemoteServing,
} from '@taskdock/shared/node/remote-serving';
import { ConflictError, InvalidInputError, UnsupportedError } from '../engine/errors.ts';
import { isLoopbackBind, loadServing, type Serving } from '../serving.ts';

/** The "Remote workers" setting: what runs now, what is saved, and saving a new one. */
export interface RemoteServingControl {
  status(): RemoteServingStatus;
  /**
   * Checks the setting as the backend's start would, saves it, and asks the supervisor to
   * restart the backend with it. ConflictError SET_BY_ENVIRONMENT when TASKDOCK_HOST decides;
   * UnsupportedError without a supervisor; InvalidInputError naming the field at fault.
   */
  save(setting: RemoteServingSetting): Promise<RemoteServingStatus>;
}

export interface RemoteServingOptions {
  /** How this backend serves now (its config). */
  readonly serving: Serving;
  readonly dataDir: string;
  readonly port: number;
  /** This machine's name: the default address other machines use. */
  readonly hostName: string;
  /** Whether the lease routes are served (the Redis store; memory mode has none). */
  readonly available: boolean;
  /** Asks the supervisor to restart the backend; undefined when none runs it. */
  readonly restartBackend: (() => void) | undefined;
}

/** Which field of the setting a serving problem is about (serving.ts words its problems). */
const fieldOf = (problem: string) =>
  /ALLOW_PLAINTEXT|without TLS/.test(problem)
    ? '/allowPlaintext'
    : /PUBLIC_URL|ALLOWED_HOSTS/.test(problem)
      ? '/publicUrl'
      : '';

export function createRemoteServing(options: RemoteServingOptions): RemoteServingControl {
  const { serving, dataDir, port, hostName, available, restartBackend } = options;
  const active = !isLoopbackBind(serving.host);
  const status = (restarting?: boolean): RemoteServingStatus => ({
    supervised: restartBackend !== undefined,
    available,
    source: serving.source,
    active,
    url: active
      ? (serving.publicUrl ?? `${serving.tls ? 'https' : 'http'}://${hostName}:${port}`)
      : null,
    tls: serving.tls !== undefined,
    plaintext: serving.plaintextRemote,
    setting: readRemoteServing(dataDir),
    ...(restarting === undefined ? {} : { restarting }),
  });

  return {
    status: () => status(),
    async save(setting) {
      if (serving.source === 'env') {
        throw new ConflictError(
          'SET_BY_ENVIRONMENT',
          'TASKDOCK_HOST is set in the environment: it decides where the API listens, not this setting',
        );
      }
      if (!available) {
        throw new UnsupportedError(
          'Remote workers need the Redis store; this Taskdock runs in memory mode',
        );
      }
      if (!restartBackend) {
        throw new UnsupportedError(
          'No supervisor runs this backend: set TASKDOCK_HOST and restart it instead (docs/remote-workers.md)',
        );
      }
      // The variables the supervisor will pass, with the TLS files in force now.
      const problems: string[] = [];
      loadServing(
        {
          ...servingEnv({}, setting, hostName),
          ...(serving.tls
            ? { TASKDOCK_TLS_CERT: serving.tls.certFile, TASKDOCK_TLS_KEY: serving.tls.keyFile }
            : {}),
        },
        problems,
      );
      if (problems.length > 0) {
        const fields: FieldError[] = problems.map((message) => ({
          path: fieldOf(message),
          message,
        }));
        throw new InvalidInputError(
          'BAD_SETTING',
          'The backend could not start with it',
          fields,
          true,
        );
      }
      await writeRemoteServing(dataDir, setting);
      restartBackend();
      return status(true);
    },
  };
}
