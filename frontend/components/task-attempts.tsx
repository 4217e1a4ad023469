'use client';

import type { AttemptOutcome, TaskAttempt } from '@taskdock/shared/contract';
import { formatDateTime, formatDuration } from '@/lib/format';
import { Badge, type Tone } from './ui/badge';

const OUTCOME_TONE: Record<AttemptOutcome, Tone> = {
  running: 'blue',
  completed: 'green',
  failed: 'red',
  cancelled: 'amber',
  stalled: 'violet',
  released: 'gray',
};

const OUTCOME_HINT: Partial<Record<AttemptOutcome, string>> = {
  stalled: 'Its worker stopped answering; the task went back to the queue (no attempt counted)',
  released: 'Its worker handed it back (it was stopping); no attempt counted',
};

/** One row per run of the task: which worker, when, how long, how it ended. */
export function TaskAttempts({ attempts }: { attempts: readonly TaskAttempt[] }) {
  return (
    <div className="table-wrap">
      <table className="table" aria-label="Attempts">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Outcome</th>
            <th scope="col">Worker</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {attempts.map((attempt) => (
            <tr key={`${attempt.number}-${attempt.startedAt}`} data-testid="attempt-row">
              <td className="mono">{attempt.number}</td>
              <td>
                <Badge
                  tone={OUTCOME_TONE[attempt.outcome]}
                  dot
                  pulse={attempt.outcome === 'running'}
                  title={OUTCOME_HINT[attempt.outcome]}
                >
                  {attempt.outcome}
                </Badge>
              </td>
              <td className="mono nowrap" title={attempt.workerId}>
                {attempt.workerId ?? '—'}
              </td>
              <td className="nowrap">{formatDateTime(attempt.startedAt)}</td>
              <td className="nowrap">
                {attempt.durationMs === undefined ? '—' : formatDuration(attempt.durationMs)}
              </td>
              <td>
                {attempt.error
                  ? `${attempt.error.code ? `${attempt.error.code}: ` : ''}${attempt.error.message}`
                  : '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
