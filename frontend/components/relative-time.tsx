'use client';

import { formatDateTime, formatRelative } from '@/lib/format';
import { useNow } from '@/lib/use-resource';

/** "12 s ago", kept current, with the full date on hover. */
export function RelativeTime({ iso }: { iso: string | undefined | null }) {
  const now = useNow(5000);
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)} className="nowrap">
      {formatRelative(iso, now)}
    </time>
  );
}
