'use client';

import type { TaskLogLine } from '@taskdock/shared/contract';
import { Fragment, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { formatClock } from '@/lib/format';
import { Button } from './ui/button';
import { ArrowDownIcon } from './ui/icons';

/** The task's log, sticking to the newest line unless the reader scrolled up. */
export function TaskLogTail({ lines, running }: { lines: TaskLogLine[]; running: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  const [stick, setStick] = useState(true);

  useLayoutEffect(() => {
    const el = ref.current;
    if (el && stick) el.scrollTop = el.scrollHeight;
  });

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const onScroll = () => setStick(el.scrollHeight - el.scrollTop - el.clientHeight < 24);
    el.addEventListener('scroll', onScroll, { passive: true });
    return () => el.removeEventListener('scroll', onScroll);
  }, []);

  return (
    <div style={{ position: 'relative' }}>
      <div
        ref={ref}
        className="log-tail"
        role="log"
        aria-live={running ? 'polite' : 'off'}
        aria-label="Task log"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
        tabIndex={0}
      >
        {lines.length === 0 ? (
          <div className="log-tail-line muted">
            <span />
            <span>{running ? 'Waiting for output…' : 'This task wrote no log lines.'}</span>
          </div>
        ) : (
          lines.map((line, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: log lines have no id; the list only grows
            <Fragment key={i}>
              {/* Lines are grouped by attempt: a marker where the next one begins. */}
              {line.attempt !== undefined && line.attempt !== lines[i - 1]?.attempt && (
                <div className="log-tail-marker" data-testid="attempt-marker">
                  Attempt {line.attempt}
                </div>
              )}
              <div
                className={`log-tail-line${line.stream === 'stderr' ? ' log-stderr' : line.stream === 'system' ? ' log-system' : ''}`}
              >
                <span className="ts">{formatClock(line.ts)}</span>
                <span>{line.text}</span>
              </div>
            </Fragment>
          ))
        )}
      </div>
      {!stick && (
        <Button
          size="sm"
          className="jump-latest"
          icon={<ArrowDownIcon />}
          onClick={() => {
            setStick(true);
            if (ref.current) ref.current.scrollTop = ref.current.scrollHeight;
          }}
        >
          Latest
        </Button>
      )}
    </div>
  );
}
