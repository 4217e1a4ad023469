'use client';

import { formatDuration } from '@/lib/format';
import { useNow } from '@/lib/use-resource';
import { useConnection } from './live-events';
import { Button } from './ui/button';
import { AlertIcon } from './ui/icons';

/** A dropped stream that comes back within this is a blip (a restart), not worth a banner. */
const GRACE_MS = 1000;

const clock = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** Whether what the pages show may be out of date: the backend is not answering. */
export function useStale(): boolean {
  const { state, downSince } = useConnection();
  const now = useNow(500);
  return state === 'reconnecting' && downSince !== null && now - downSince >= GRACE_MS;
}

/** Over stale data: since when the backend is unreachable, and when the next try is. */
export function ConnectionBanner() {
  const { downSince, retryAt, retryNow } = useConnection();
  const stale = useStale();
  const now = useNow(1000);
  if (!stale || downSince === null) return null;
  const wait = retryAt === null ? 0 : Math.max(0, Math.ceil((retryAt - now) / 1000));
  return (
    <div className="connection-banner" data-testid="connection-banner">
      <AlertIcon />
      <div className="connection-banner-text" role="alert">
        <strong>The Taskdock backend is not answering</strong> since{' '}
        <time dateTime={new Date(downSince).toISOString()}>{clock.format(downSince)}</time> (
        {formatDuration(now - downSince)}). What this page shows is from then and may be out of
        date; it updates again once the backend is back.
      </div>
      <span className="connection-banner-retry" aria-hidden="true">
        {wait > 0 ? `Retrying in ${wait} s` : 'Retrying…'}
      </span>
      <Button size="sm" onClick={retryNow}>
        Retry now
      </Button>
    </div>
  );
}
