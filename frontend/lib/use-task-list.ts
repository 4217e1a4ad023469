'use client';

import type { ListTasksQuery, TaskEvent, TaskSummary } from '@taskdock/shared/contract';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from './api-client';
import { applyTaskEvent } from './task-events';
import { useThrottled } from './use-resource';

export const PAGE_SIZE = 50;

export type TaskFilters = Pick<ListTasksQuery, 'status' | 'workflow' | 'owner' | 'q'>;

export interface TaskListState {
  readonly items: TaskSummary[];
  readonly nextCursor: string | null;
  readonly loading: boolean;
  readonly loadingMore: boolean;
  readonly error: unknown;
  /** New matching tasks not shown yet (the user paged on or has a selection). */
  readonly pendingNew: number;
  /** Ids that arrived with the latest live refresh (they flash once). */
  readonly fresh: ReadonlySet<string>;
}

/** A page that loaded while events arrived, with those events applied. */
function settle(duringLoad: { current: TaskEvent[] | null }, items: TaskSummary[]): TaskSummary[] {
  const events = duringLoad.current ?? [];
  duringLoad.current = null;
  return items
    .filter((t) => !events.some((e) => e.type === 'removed' && e.taskId === t.id))
    .map((t) => events.reduce(applyTaskEvent, t));
}

/**
 * The task list with cursor paging, kept current by live events: rows patch in place; new tasks
 * refresh the first page (throttled) unless the user paged on or holds a selection — then a
 * banner offers them. No polling.
 */
export function useTaskList(filters: TaskFilters, holdNewRows: boolean) {
  const [state, setState] = useState<TaskListState>({
    items: [],
    nextCursor: null,
    loading: true,
    loadingMore: false,
    error: undefined,
    pendingNew: 0,
    fresh: new Set(),
  });
  const filtersKey = JSON.stringify(filters);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const generation = useRef(0);
  const pagesLoaded = useRef(1);
  const holdRef = useRef(holdNewRows);
  holdRef.current = holdNewRows;
  const itemsRef = useRef(state.items);
  itemsRef.current = state.items;
  /** Events that arrive while a page loads are applied to it: a late answer is never stale. */
  const duringLoad = useRef<TaskEvent[] | null>(null);

  const loadFirst = useCallback(async (live = false) => {
    const gen = ++generation.current;
    if (!live) setState((s) => ({ ...s, loading: true, error: undefined }));
    duringLoad.current = [];
    try {
      const page = await api.listTasks({ ...filtersRef.current, limit: PAGE_SIZE });
      if (gen !== generation.current) return;
      pagesLoaded.current = 1;
      const items = settle(duringLoad, page.items);
      setState((s) => {
        const known = new Set(s.items.map((t) => t.id));
        return {
          ...s,
          items,
          nextCursor: page.nextCursor,
          loading: false,
          error: undefined,
          pendingNew: 0,
          fresh: live
            ? new Set(page.items.filter((t) => !known.has(t.id)).map((t) => t.id))
            : new Set(),
        };
      });
    } catch (error) {
      if (gen !== generation.current) return;
      setState((s) => ({ ...s, loading: false, error }));
    }
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: filtersKey stands for the filters
  useEffect(() => {
    void loadFirst();
  }, [filtersKey, loadFirst]);

  const loadMore = useCallback(async () => {
    const cursor = state.nextCursor;
    if (!cursor) return;
    const gen = generation.current;
    setState((s) => ({ ...s, loadingMore: true }));
    duringLoad.current = [];
    try {
      const page = await api.listTasks({ ...filtersRef.current, limit: PAGE_SIZE, cursor });
      if (gen !== generation.current) return;
      pagesLoaded.current += 1;
      const more = settle(duringLoad, page.items);
      setState((s) => {
        const known = new Set(s.items.map((t) => t.id));
        return {
          ...s,
          items: [...s.items, ...more.filter((t) => !known.has(t.id))],
          nextCursor: page.nextCursor,
          loadingMore: false,
        };
      });
    } catch (error) {
      setState((s) => ({ ...s, loadingMore: false, error }));
    }
  }, [state.nextCursor]);

  const refreshLive = useThrottled(() => void loadFirst(true), 1000);

  const onEvent = useCallback(
    (event: TaskEvent) => {
      const f = filtersRef.current;
      duringLoad.current?.push(event);
      if (event.type === 'removed') {
        setState((s) => ({ ...s, items: s.items.filter((t) => t.id !== event.taskId) }));
        return;
      }
      if (itemsRef.current.some((t) => t.id === event.taskId)) {
        setState((s) => ({
          ...s,
          items: s.items.map((t) => (t.id === event.taskId ? applyTaskEvent(t, event) : t)),
        }));
        return;
      }
      if (event.type !== 'created') return;
      if (f.workflow && f.workflow !== event.workflow) return;
      if (f.status && event.status && f.status !== event.status) return;
      if (pagesLoaded.current > 1 || holdRef.current) {
        setState((s) => ({ ...s, pendingNew: s.pendingNew + 1 }));
      } else {
        refreshLive();
      }
    },
    [refreshLive],
  );

  const replaceTask = useCallback((task: TaskSummary) => {
    setState((s) => ({ ...s, items: s.items.map((t) => (t.id === task.id ? task : t)) }));
  }, []);

  return { ...state, reload: loadFirst, loadMore, onEvent, replaceTask };
}
