'use client';

import type { ServiceLogLine, ServiceLogQuery } from '@taskdock/shared/contract';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, notifyUnauthorized, streams } from './api-client';
import { openStream, type StreamState } from './sse';

/** The client keeps at most this many lines (oldest dropped first). */
export const MAX_LINES = 100_000;
/** What the server sends on connect: its newest lines (the API's maximum). */
const BACKLOG = 5000;

/** Merges lines in `seq` order without duplicates; the common case (newer lines) is an append. */
export function mergeLines(
  existing: ServiceLogLine[],
  incoming: readonly ServiceLogLine[],
  max = MAX_LINES,
): ServiceLogLine[] {
  if (incoming.length === 0) return existing;
  const last = existing.at(-1)?.seq ?? -1;
  let merged: ServiceLogLine[];
  if (
    incoming.every(
      (line, i) =>
        line.seq > last && (i === 0 || line.seq > (incoming[i - 1] as ServiceLogLine).seq),
    )
  ) {
    merged = existing;
    for (const line of incoming) merged.push(line);
  } else {
    const bySeq = new Map<number, ServiceLogLine>();
    for (const line of existing) bySeq.set(line.seq, line);
    for (const line of incoming) bySeq.set(line.seq, line);
    merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }
  if (merged.length > max) merged.splice(0, merged.length - max);
  return merged;
}

export interface ServiceLogs {
  /** Oldest first. Mutated in place on appends: use `version` to notice changes. */
  readonly lines: ServiceLogLine[];
  readonly version: number;
  readonly state: StreamState;
  /** Loads older lines matching a filter (a stream only backfills its newest lines). */
  backfill(query: Omit<ServiceLogQuery, 'limit' | 'after'>): Promise<void>;
  /** Drops what the view holds (the services keep their logs). */
  clear(): void;
}

/** All services' log lines: the stream's backlog, then every new line, batched per frame. */
export function useServiceLogs(): ServiceLogs {
  const lines = useRef<ServiceLogLine[]>([]);
  const [version, setVersion] = useState(0);
  const [state, setState] = useState<StreamState>('connecting');
  const pending = useRef<ServiceLogLine[]>([]);
  const frame = useRef<number | null>(null);

  const flush = useCallback(() => {
    frame.current = null;
    const batch = pending.current;
    pending.current = [];
    lines.current = mergeLines(lines.current, batch);
    setVersion((v) => v + 1);
  }, []);

  useEffect(() => {
    const connection = openStream(streams.logs({ limit: BACKLOG }), {
      onMessage(message) {
        if (message.event !== 'log') return;
        try {
          pending.current.push(JSON.parse(message.data) as ServiceLogLine);
        } catch {
          return;
        }
        frame.current ??= requestAnimationFrame(flush);
      },
      onState(next) {
        setState(next);
        if (next === 'unauthorized') notifyUnauthorized();
      },
    });
    return () => {
      connection.close();
      if (frame.current !== null) cancelAnimationFrame(frame.current);
    };
  }, [flush]);

  const backfill = useCallback(async (query: Omit<ServiceLogQuery, 'limit' | 'after'>) => {
    const page = await api.logs({ ...query, limit: BACKLOG });
    lines.current = mergeLines(lines.current, page.lines);
    setVersion((v) => v + 1);
  }, []);

  const clear = useCallback(() => {
    lines.current = [];
    setVersion((v) => v + 1);
  }, []);

  return { lines: lines.current, version, state, backfill, clear };
}
