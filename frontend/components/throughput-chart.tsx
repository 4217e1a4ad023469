'use client';

import { formatNumber } from '@/lib/format';

export interface MinuteBucket {
  /** Start of the minute (ms). */
  readonly at: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
}

const SERIES = [
  { key: 'completed', label: 'Completed', color: 'var(--chart-completed)' },
  { key: 'failed', label: 'Failed', color: 'var(--chart-failed)' },
  { key: 'cancelled', label: 'Cancelled', color: 'var(--chart-cancelled)' },
] as const;

const W = 640;
const H = 180;
const PAD = { top: 8, right: 8, bottom: 22, left: 34 };

const clock = (ms: number) =>
  new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

/** Nice round axis maximum: 1, 2, 5, 10, 20, 50 … */
function niceMax(value: number): number {
  if (value <= 4) return 4;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** Finished tasks per minute as stacked bars (hand-rolled SVG: no chart library). */
export function ThroughputChart({ buckets }: { buckets: readonly MinuteBucket[] }) {
  const totals = buckets.map((b) => b.completed + b.failed + b.cancelled);
  const max = niceMax(Math.max(0, ...totals));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const slot = innerW / Math.max(1, buckets.length);
  const barW = Math.max(2, slot * 0.62);
  const y = (v: number) => PAD.top + innerH - (v / max) * innerH;
  const sum = totals.reduce((a, b) => a + b, 0);
  const peak = Math.max(0, ...totals);
  const ticks = [0, max / 2, max];

  return (
    <figure style={{ margin: 0 }}>
      <svg
        className="chart"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Finished tasks per minute over the last ${buckets.length} minutes: ${formatNumber(sum)} in total, at most ${formatNumber(peak)} in one minute.`}
      >
        {ticks.map((tick) => (
          <g key={tick}>
            <line
              className="grid-line"
              x1={PAD.left}
              x2={W - PAD.right}
              y1={y(tick)}
              y2={y(tick)}
            />
            <text x={PAD.left - 6} y={y(tick) + 4} textAnchor="end">
              {formatNumber(tick)}
            </text>
          </g>
        ))}
        {buckets.map((bucket, i) => {
          const x = PAD.left + i * slot + (slot - barW) / 2;
          let base = 0;
          return (
            <g key={bucket.at}>
              <title>
                {`${clock(bucket.at)}: ${bucket.completed} completed, ${bucket.failed} failed, ${bucket.cancelled} cancelled`}
              </title>
              {/* A full-height hit area, so the tooltip shows on empty minutes too. */}
              <rect
                x={PAD.left + i * slot}
                y={PAD.top}
                width={slot}
                height={innerH}
                fill="transparent"
              />
              {SERIES.map(({ key, color }) => {
                const value = bucket[key];
                if (value === 0) return null;
                const top = y(base + value);
                const height = y(base) - top;
                base += value;
                return (
                  <rect
                    key={key}
                    x={x}
                    y={top}
                    width={barW}
                    height={Math.max(1, height)}
                    rx={1.5}
                    fill={color}
                  />
                );
              })}
              {(i % 5 === 4 || i === buckets.length - 1) && i !== buckets.length - 2 && (
                <text x={x + barW / 2} y={H - 6} textAnchor="middle">
                  {i === buckets.length - 1 ? 'now' : clock(bucket.at)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="chart-legend">
        {SERIES.map(({ key, label, color }) => (
          <span key={key}>
            <span className="swatch" style={{ background: color }} aria-hidden="true" />
            {label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
