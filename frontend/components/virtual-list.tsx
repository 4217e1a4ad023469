'use client';

import {
  type CSSProperties,
  type ReactNode,
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
} from 'react';

const OVERSCAN = 12;

/**
 * Renders only the rows in view (fixed row height), so 100,000 lines scroll like 100. `follow`
 * keeps the newest row in view; scrolling up turns it off, scrolling to the end turns it on.
 */
export function VirtualList({
  count,
  rowHeight,
  renderRow,
  follow,
  onFollowChange,
  label,
  empty,
  className,
}: {
  count: number;
  rowHeight: number;
  renderRow: (index: number, style: CSSProperties) => ReactNode;
  follow: boolean;
  onFollowChange: (follow: boolean) => void;
  label: string;
  empty?: ReactNode;
  className?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  const frame = useRef<number | null>(null);
  const programmatic = useRef(false);

  const measure = useCallback(() => {
    frame.current = null;
    const el = ref.current;
    if (el) setView({ top: el.scrollTop, height: el.clientHeight });
  }, []);

  const onScroll = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    if (programmatic.current) {
      programmatic.current = false;
    } else {
      const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < rowHeight * 1.5;
      onFollowChange(atEnd);
    }
    frame.current ??= requestAnimationFrame(measure);
  }, [measure, onFollowChange, rowHeight]);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver(() => measure());
    observer.observe(el);
    return () => {
      observer.disconnect();
      if (frame.current !== null) cancelAnimationFrame(frame.current);
    };
  }, [measure]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: new rows (count) move the view when following
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || !follow) return;
    const bottom = el.scrollHeight - el.clientHeight;
    if (Math.abs(el.scrollTop - bottom) > 1) {
      programmatic.current = true;
      el.scrollTop = bottom;
      setView({ top: el.scrollTop, height: el.clientHeight });
    }
  }, [count, follow]);

  const first = Math.max(0, Math.floor(view.top / rowHeight) - OVERSCAN);
  const last = Math.min(count, Math.ceil((view.top + view.height) / rowHeight) + OVERSCAN);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    rows.push(renderRow(i, { top: i * rowHeight, height: rowHeight }));
  }

  return (
    <div
      ref={ref}
      className={className}
      onScroll={onScroll}
      role="log"
      aria-label={label}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: the log scrolls with arrow keys, Page Up/Down, Home and End
      tabIndex={0}
    >
      {count === 0 ? (
        empty
      ) : (
        <div style={{ height: count * rowHeight, position: 'relative' }}>{rows}</div>
      )}
    </div>
  );
}
