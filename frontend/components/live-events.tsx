'use client';

import type { TaskEvent } from '@taskdock/shared/contract';
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { notifyUnauthorized, streams } from '@/lib/api-client';
import { openStream, type SseConnection, type StreamState } from '@/lib/sse';
import { parseTaskEvent } from '@/lib/task-events';

type Listener = (event: TaskEvent) => void;

/** The backend connection as the UI tells it: down since when, next try when. */
export interface Connection {
  readonly state: StreamState;
  /** Epoch ms the stream was lost (or first failed); null while open or not yet tried. */
  readonly downSince: number | null;
  /** Epoch ms of the next connection attempt while reconnecting. */
  readonly retryAt: number | null;
  retryNow(): void;
}

interface LiveEvents {
  readonly state: StreamState;
  readonly connection: Connection;
  /** Every task event from `GET /api/events` (one connection for the whole app). */
  subscribe(listener: Listener): () => void;
  /** Called after a reconnect that may have missed events the server no longer keeps. */
  onResync(listener: () => void): () => void;
}

const LiveEventsContext = createContext<LiveEvents>({
  state: 'connecting',
  connection: { state: 'connecting', downSince: null, retryAt: null, retryNow: () => {} },
  subscribe: () => () => {},
  onResync: () => () => {},
});

export function LiveEventsProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<StreamState>('connecting');
  const [downSince, setDownSince] = useState<number | null>(null);
  const [retryAt, setRetryAt] = useState<number | null>(null);
  const connectionRef = useRef<SseConnection | null>(null);
  const listeners = useRef(new Set<Listener>());
  const resyncListeners = useRef(new Set<() => void>());

  useEffect(() => {
    let wasOpen = false;
    const connection = openStream(streams.taskEvents, {
      onMessage(message) {
        const event = parseTaskEvent(message.data);
        if (!event) return;
        for (const listener of listeners.current) listener(event);
      },
      onRetryAt: setRetryAt,
      onState(next) {
        setState(next);
        if (next === 'open') {
          setDownSince(null);
          setRetryAt(null);
        } else if (next === 'reconnecting') {
          setDownSince((since) => since ?? Date.now());
        }
        if (next === 'unauthorized') notifyUnauthorized();
        // Last-Event-ID replays what we missed; a refresh covers events older than the stream.
        if (next === 'open' && wasOpen) for (const listener of resyncListeners.current) listener();
        if (next === 'open') wasOpen = true;
      },
    });
    connectionRef.current = connection;
    return () => connection.close();
  }, []);

  const subscribe = useCallback((listener: Listener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);
  const onResync = useCallback((listener: () => void) => {
    resyncListeners.current.add(listener);
    return () => {
      resyncListeners.current.delete(listener);
    };
  }, []);
  const retryNow = useCallback(() => connectionRef.current?.retryNow(), []);
  const value = useMemo<LiveEvents>(
    () => ({
      state,
      connection: { state, downSince, retryAt, retryNow },
      subscribe,
      onResync,
    }),
    [state, downSince, retryAt, retryNow, subscribe, onResync],
  );
  return <LiveEventsContext.Provider value={value}>{children}</LiveEventsContext.Provider>;
}

export const useLiveState = () => useContext(LiveEventsContext).state;
export const useConnection = () => useContext(LiveEventsContext).connection;

/** Calls `listener` (latest version) for every task event; `onResync` after reconnects. */
export function useTaskEvents(listener: Listener, onResync?: () => void): StreamState {
  const live = useContext(LiveEventsContext);
  const listenerRef = useRef(listener);
  listenerRef.current = listener;
  const resyncRef = useRef(onResync);
  resyncRef.current = onResync;
  const { subscribe, onResync: subscribeResync } = live;
  useEffect(() => subscribe((event) => listenerRef.current(event)), [subscribe]);
  useEffect(() => subscribeResync(() => resyncRef.current?.()), [subscribeResync]);
  return live.state;
}

const LABELS: Record<StreamState, string> = {
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
  unavailable: 'Live updates unavailable',
  unauthorized: 'Signed out',
  closed: 'Offline',
};

export function LiveIndicator() {
  const state = useLiveState();
  const dot =
    state === 'open'
      ? 'dot-green'
      : state === 'reconnecting' || state === 'connecting'
        ? 'dot-amber'
        : 'dot-red';
  return (
    <span
      className="live-indicator"
      role="status"
      title={
        state === 'unavailable'
          ? 'This backend has no GET /api/events: pages show what they loaded; reload for news.'
          : 'Task changes arrive as they happen (GET /api/events)'
      }
    >
      <span className={`dot ${dot}`} aria-hidden="true" />
      {LABELS[state]}
    </span>
  );
}
