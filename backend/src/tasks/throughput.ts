import type { Stats } from '@taskdock/shared/contract';
import { THROUGHPUT_BUCKET_MS } from './keys.ts';

const WINDOWS = { last1m: 60_000, last5m: 300_000, last15m: 900_000 } as const;

/** The THROUGHPUT_BUCKET_MS buckets the longest window covers at `now`, oldest first. */
export function throughputBuckets(now: number): number[] {
  const newest = Math.floor(now / THROUGHPUT_BUCKET_MS);
  const oldest = Math.floor((now - WINDOWS.last15m) / THROUGHPUT_BUCKET_MS) + 1;
  return Array.from({ length: newest - oldest + 1 }, (_, i) => oldest + i);
}

/** Finished tasks per minute over each window, from the count of each bucket. */
export function throughputRates(
  finishedIn: (bucket: number) => number,
  now: number,
): Stats['throughput'] {
  const buckets = throughputBuckets(now);
  const rate = (windowMs: number) => {
    const from = Math.floor((now - windowMs) / THROUGHPUT_BUCKET_MS) + 1;
    let sum = 0;
    for (const bucket of buckets) if (bucket >= from) sum += finishedIn(bucket);
    // Per minute over the time the buckets really cover (the newest one is still filling).
    const covered = now - from * THROUGHPUT_BUCKET_MS;
    return Math.round((sum * 60_000 * 100) / covered) / 100;
  };
  return {
    last1m: rate(WINDOWS.last1m),
    last5m: rate(WINDOWS.last5m),
    last15m: rate(WINDOWS.last15m),
  };
}
