'use client';

import { DURABLE_MODE_HINT, type StoreInfo } from '@taskdock/shared/contract';
import { useEffect, useState } from 'react';
import { api } from '@/lib/api-client';
import { Callout } from './ui/callout';

/**
 * On every page in memory mode: tasks vanish when Taskdock stops, why it is in memory mode, and
 * how to get durable mode. The store is chosen at the backend's start, so one look per page
 * load is enough (a reload after a restart looks again).
 */
export function MemoryModeBanner() {
  const [store, setStore] = useState<StoreInfo | undefined>(undefined);
  useEffect(() => {
    let live = true;
    api
      .ready()
      .then((readiness) => {
        if (live) setStore(readiness.store);
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, []);
  if (store?.mode !== 'memory') return null;
  return (
    <div className="page memory-mode-banner" data-store="memory" style={{ marginBottom: 16 }}>
      <Callout tone="warning" title="Memory mode: tasks vanish when Taskdock stops">
        <p>Tasks live in the backend&apos;s memory, not in Redis. Why: {store.reason}.</p>
        <p>For durable tasks, {DURABLE_MODE_HINT}.</p>
      </Callout>
    </div>
  );
}
