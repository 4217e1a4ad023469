import type {
  BackendMessage,
  ServiceInfo,
  ServiceLogLine,
  ServiceLogQuery,
  SupervisorMessage,
} from '@taskdock/shared/contract';

/** What the backend knows about the supervisor that runs it (services and their logs). */
export interface SupervisionSource {
  /** The latest snapshot the supervisor pushed. */
  services(): ServiceInfo[];
  /** Matching buffered lines, oldest first; rejects when the supervisor does not answer. */
  logs(query: ServiceLogQuery): Promise<ServiceLogLine[]>;
  /** Every new line as it is captured; returns the unsubscribe function. */
  follow(listener: (lines: readonly ServiceLogLine[]) => void): () => void;
  /** Asks the supervisor to stop this backend and start it again (a saved setting applies). */
  restartBackend?(): void;
  close(): void;
}

/** The part of a Node child process's IPC channel this needs (`process` satisfies it). */
export interface IpcChannel {
  send?(message: unknown, callback?: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
  readonly connected?: boolean;
}

export class SupervisorUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SupervisorUnavailableError';
  }
}

const isMessage = (value: unknown): value is SupervisorMessage =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { type?: unknown }).type === 'string' &&
  (value as { type: string }).type.startsWith('taskdock:');

/**
 * A SupervisionSource over the IPC channel the supervisor opened when it spawned this process.
 * The supervisor holds the state and the log buffer; this side only caches the services
 * snapshot and asks for log lines, so nothing is lost when the backend restarts.
 */
export function createIpcSupervision(
  channel: IpcChannel,
  options: { timeoutMs?: number } = {},
): SupervisionSource {
  const timeoutMs = options.timeoutMs ?? 3000;
  let services: ServiceInfo[] = [];
  let nextId = 1;
  const pending = new Map<
    number,
    {
      resolve: (lines: ServiceLogLine[]) => void;
      reject: (err: Error) => void;
      timer: NodeJS.Timeout;
    }
  >();
  const followers = new Set<(lines: readonly ServiceLogLine[]) => void>();

  const send = (message: BackendMessage): boolean => {
    if (!channel.send || channel.connected === false) return false;
    try {
      // The callback turns a closed channel into a no-op instead of an 'error' event.
      return channel.send(message, () => {});
    } catch {
      return false;
    }
  };

  const onMessage = (raw: unknown) => {
    if (!isMessage(raw)) return;
    switch (raw.type) {
      case 'taskdock:services':
        services = raw.services;
        break;
      case 'taskdock:logs': {
        const request = pending.get(raw.id);
        if (request) {
          pending.delete(raw.id);
          clearTimeout(request.timer);
          request.resolve(raw.lines);
        }
        break;
      }
      case 'taskdock:log-lines':
        for (const listener of followers) listener(raw.lines);
        break;
      default:
        break;
    }
  };
  channel.on('message', onMessage);
  send({ type: 'taskdock:hello' });

  return {
    services: () => services,
    logs(query) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(
            new SupervisorUnavailableError(`The supervisor did not answer within ${timeoutMs} ms`),
          );
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        if (!send({ type: 'taskdock:query-logs', id, query })) {
          clearTimeout(timer);
          pending.delete(id);
          reject(new SupervisorUnavailableError('The supervisor channel is closed'));
        }
      });
    },
    follow(listener) {
      followers.add(listener);
      if (followers.size === 1) send({ type: 'taskdock:follow-logs', follow: true });
      return () => {
        if (followers.delete(listener) && followers.size === 0) {
          send({ type: 'taskdock:follow-logs', follow: false });
        }
      };
    },
    restartBackend() {
      send({ type: 'taskdock:restart-backend' });
    },
    close() {
      channel.off('message', onMessage);
      for (const { reject, timer } of pending.values()) {
        clearTimeout(timer);
        reject(new SupervisorUnavailableError('The supervision source is closed'));
      }
      pending.clear();
      followers.clear();
    },
  };
}
