'use client';

import { useCallback, useEffect, useRef, useState } from 'react';

export interface Resource<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  /** True until the first answer (later reloads keep showing the last data). */
  readonly loading: boolean;
  reload(): Promise<void>;
  /** Local update (e.g. from a live event) without a round trip. */
  mutate(update: (current: T | undefined) => T | undefined): void;
}

/**
 * Loads `fetcher` when `key` changes; a newer load aborts the older one so answers never arrive
 * out of order. `key` null means "nothing to load".
 */
export function useResource<T>(
  key: string | null,
  fetcher: (signal: AbortSignal) => Promise<T>,
): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(key !== null);
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;
  const controllerRef = useRef<AbortController | null>(null);

  const load = useCallback(async () => {
    if (key === null) return;
    controllerRef.current?.abort();
    const controller = new AbortController();
    controllerRef.current = controller;
    try {
      const value = await fetcherRef.current(controller.signal);
      if (controller.signal.aborted) return;
      setData(value);
      setError(undefined);
    } catch (err) {
      if (controller.signal.aborted || (err as Error).name === 'AbortError') return;
      setError(err);
    } finally {
      if (!controller.signal.aborted) setLoading(false);
    }
  }, [key]);

  useEffect(() => {
    setLoading(key !== null);
    setData(undefined);
    setError(undefined);
    void load();
    return () => controllerRef.current?.abort();
  }, [load, key]);

  const mutate = useCallback((update: (current: T | undefined) => T | undefined) => {
    setData((current) => update(current));
  }, []);

  return { data, error, loading, reload: load, mutate };
}

/** Calls `fn` at most once per `ms`, trailing call included (for event-driven refreshes). */
export function useThrottled(fn: () => void, ms: number): () => void {
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const state = useRef<{ last: number; timer: ReturnType<typeof setTimeout> | null }>({
    last: 0,
    timer: null,
  });
  useEffect(
    () => () => {
      if (state.current.timer) clearTimeout(state.current.timer);
    },
    [],
  );
  return useCallback(() => {
    const s = state.current;
    if (s.timer) return;
    const wait = Math.max(0, s.last + ms - Date.now());
    s.timer = setTimeout(() => {
      s.timer = null;
      s.last = Date.now();
      fnRef.current();
    }, wait);
  }, [ms]);
}

/** Re-renders every `ms` (relative times, uptimes). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** `value`, once it has stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}
