'use client';

import type { TaskEvent } from '@taskdock/shared/contract';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { MinuteBucket } from '@/components/throughput-chart';
import { api } from './api-client';
import { useNow } from './use-resource';

const MINUTE = 60_000;
type Outcome = 'completed' | 'failed' | 'cancelled';
const OUTCOMES: readonly string[] = ['completed', 'failed', 'cancelled'];
/** How many of the newest tasks seed the chart when the page opens. */
export const SEED_LIMIT = 500;

export interface ThroughputSeries {
  readonly buckets: MinuteBucket[];
  /** Set when the seed did not reach back over the whole window: bars before it are partial. */
  readonly partialBefore: number | null;
  record(event: TaskEvent): void;
}

/**
 * Finished tasks per minute over the last `minutes`: seeded once from the newest tasks, then
 * kept current by live events (each task's finish is counted once per outcome).
 */
export function useThroughput(minutes = 15): ThroughputSeries {
  const now = useNow(5000);
  const counts = useRef(new Map<number, Record<Outcome, number>>());
  const seen = useRef(new Set<string>());
  const [version, setVersion] = useState(0);
  const [partialBefore, setPartialBefore] = useState<number | null>(null);

  const add = useCallback((id: string, outcome: Outcome, at: number) => {
    const key = `${id}|${outcome}|${Math.floor(at / 1000)}`;
    if (seen.current.has(key)) return false;
    if (seen.current.size > 50_000) seen.current.clear();
    seen.current.add(key);
    const minute = Math.floor(at / MINUTE) * MINUTE;
    const bucket = counts.current.get(minute) ?? { completed: 0, failed: 0, cancelled: 0 };
    bucket[outcome] += 1;
    counts.current.set(minute, bucket);
    return true;
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    api
      .listTasks({ limit: SEED_LIMIT }, controller.signal)
      .then((page) => {
        const since = Date.now() - minutes * MINUTE;
        for (const task of page.items) {
          if (!OUTCOMES.includes(task.status) || !task.finishedAt) continue;
          const at = Date.parse(task.finishedAt);
          if (at >= since) add(task.id, task.status as Outcome, at);
        }
        const oldest = page.items.at(-1);
        if (page.nextCursor && oldest && Date.parse(oldest.createdAt) > since) {
          setPartialBefore(Date.parse(oldest.createdAt));
        }
        setVersion((v) => v + 1);
      })
      .catch(() => {});
    return () => controller.abort();
  }, [add, minutes]);

  const record = useCallback(
    (event: TaskEvent) => {
      if (!OUTCOMES.includes(event.type)) return;
      if (add(event.taskId, event.type as Outcome, Date.parse(event.ts) || Date.now())) {
        setVersion((v) => v + 1);
      }
    },
    [add],
  );

  const current = Math.floor(now / MINUTE) * MINUTE;
  const buckets: MinuteBucket[] = [];
  for (let i = minutes - 1; i >= 0; i--) {
    const at = current - i * MINUTE;
    const c = counts.current.get(at);
    buckets.push({
      at,
      completed: c?.completed ?? 0,
      failed: c?.failed ?? 0,
      cancelled: c?.cancelled ?? 0,
    });
  }
  // `version` makes a new event re-render; old minutes are dropped as the window moves.
  void version;
  for (const minute of counts.current.keys()) {
    if (minute < current - minutes * MINUTE) counts.current.delete(minute);
  }
  return { buckets, partialBefore, record };
}
