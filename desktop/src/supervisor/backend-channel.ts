import type { ChildProcess } from 'node:child_process';
import type {
  BackendMessage,
  ServiceInfo,
  ServiceLogLine,
  SupervisorMessage,
} from '@taskdock/shared/contract';
import type { LogStore } from './logs.ts';

export interface SupervisionState {
  services(): ServiceInfo[];
  onChange(listener: (services: ServiceInfo[]) => void): () => void;
  readonly logs: LogStore;
  /** Stops the backend and starts it again (asked for when a setting it reads at start changed). */
  restartBackend(): void;
}

const FLUSH_MS = 100;
/** Lines held for a backend that does not read fast enough; older ones are dropped. */
const MAX_PENDING = 2000;

const isBackendMessage = (value: unknown): value is BackendMessage =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { type?: unknown }).type === 'string';

/**
 * The supervisor's end of the IPC channel of one backend process. The supervisor owns the
 * state (services, log buffer); the backend asks for it. Each backend process gets its own
 * channel, so a restarted backend is served at once, and when the supervisor goes the backend
 * goes with it (parent watch), so neither side ever talks to a stale peer.
 */
export function attachSupervisionChannel(child: ChildProcess, state: SupervisionState): () => void {
  let following: (() => void) | undefined;
  let pending: ServiceLogLine[] = [];
  let flushTimer: NodeJS.Timeout | undefined;

  const send = (message: SupervisorMessage) => {
    if (!child.connected) return;
    try {
      child.send(message, () => {});
    } catch {
      // The channel closed in between: the backend is going away.
    }
  };
  const flush = () => {
    flushTimer = undefined;
    if (pending.length === 0) return;
    const lines = pending;
    pending = [];
    send({ type: 'taskdock:log-lines', lines });
  };
  const follow = (on: boolean) => {
    if (on && !following) {
      following = state.logs.subscribe((line) => {
        pending.push(line);
        if (pending.length > MAX_PENDING) pending = pending.slice(-MAX_PENDING);
        flushTimer ??= setTimeout(flush, FLUSH_MS);
      });
    } else if (!on && following) {
      following();
      following = undefined;
      pending = [];
    }
  };

  const onMessage = (message: unknown) => {
    if (!isBackendMessage(message)) return;
    switch (message.type) {
      case 'taskdock:hello':
        send({ type: 'taskdock:services', services: state.services() });
        break;
      case 'taskdock:query-logs':
        send({ type: 'taskdock:logs', id: message.id, lines: state.logs.query(message.query) });
        break;
      case 'taskdock:follow-logs':
        follow(message.follow);
        break;
      case 'taskdock:restart-backend':
        state.restartBackend();
        break;
      default:
        break;
    }
  };
  const stopChanges = state.onChange((services) => send({ type: 'taskdock:services', services }));
  child.on('message', onMessage);

  const detach = () => {
    child.off('message', onMessage);
    stopChanges();
    follow(false);
    clearTimeout(flushTimer);
  };
  child.once('exit', detach);
  return detach;
}
