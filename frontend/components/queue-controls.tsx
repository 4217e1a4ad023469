'use client';

import type { QueueState, Stats, WorkflowInfo } from '@taskdock/shared/contract';
import Link from 'next/link';
import { type FormEvent, useEffect, useState } from 'react';
import { api, errorMessage } from '@/lib/api-client';
import { countBulk, removeFinishedToEnd, runBulkToEnd } from '@/lib/bulk-actions';
import { formatDateTime, formatNumber, plural } from '@/lib/format';
import { useResource } from '@/lib/use-resource';
import { Badge } from './ui/badge';
import { Button } from './ui/button';
import { Callout } from './ui/callout';
import { Card } from './ui/card';
import { useConfirm } from './ui/confirm-dialog';
import { PauseIcon, PlayIcon, RetryIcon, TrashIcon } from './ui/icons';
import { ProgressBar } from './ui/progress-bar';
import { useToast } from './ui/toast';

/** Another tab (or the API) may pause a queue: look again now and then. */
const QUEUES_REFRESH_MS = 15_000;

const AGES = [
  { label: '1 hour', ms: 3_600_000 },
  { label: '1 day', ms: 86_400_000 },
  { label: '7 days', ms: 7 * 86_400_000 },
  { label: '30 days', ms: 30 * 86_400_000 },
] as const;

type WorkflowStats = Stats['workflows'][number];

/**
 * Each workflow's queue controls: pause/resume, global concurrency, retry all failed, remove
 * finished tasks older than an age. Every one says what it will touch, with the count, first.
 */
export function QueueControlsCard({
  stats,
  onChanged,
}: {
  stats: Stats | undefined;
  /** After a change: the page reloads what shows it (paused badges, counts). */
  onChanged: () => void;
}) {
  const queues = useResource('queues', (signal) => api.queues(signal));
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void queues.reload();
    }, QUEUES_REFRESH_MS);
    return () => clearInterval(timer);
  }, [queues.reload]);

  const changed = (next: QueueState) => {
    queues.mutate(
      (current) =>
        current && {
          items: current.items.map((q) => (q.workflow === next.workflow ? next : q)),
        },
    );
    onChanged();
  };

  return (
    <Card title="Queue controls" flush id="queue-controls">
      {queues.error && !queues.data ? (
        <div className="card-body">
          <Callout tone="error" title="Could not load the queues">
            {errorMessage(queues.error)}
          </Callout>
        </div>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Workflow</th>
                <th scope="col">State</th>
                <th scope="col">Global concurrency</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {(queues.data?.items ?? []).map((queue) => (
                <QueueRow
                  key={queue.workflow}
                  queue={queue}
                  stats={stats?.workflows.find((w) => w.name === queue.workflow)}
                  onChanged={changed}
                  onTasksChanged={onChanged}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function QueueRow({
  queue,
  stats,
  onChanged,
  onTasksChanged,
}: {
  queue: QueueState;
  stats: WorkflowStats | undefined;
  onChanged: (queue: QueueState) => void;
  onTasksChanged: () => void;
}) {
  const name = queue.workflow;
  const confirm = useConfirm();
  const toast = useToast();
  const [pending, setPending] = useState<'pause' | 'limit' | 'retry' | 'remove' | null>(null);
  const [progress, setProgress] = useState<{ text: string; percent: number } | null>(null);
  const [limit, setLimit] = useState(queue.globalConcurrency?.toString() ?? '');
  const [age, setAge] = useState<number>(AGES[1].ms);
  const queued = stats?.byStatus.queued ?? 0;
  const running = stats?.byStatus.running ?? 0;

  useEffect(() => setLimit(queue.globalConcurrency?.toString() ?? ''), [queue.globalConcurrency]);

  /** One control from its count to its end; a failure is a toast. */
  const run = (work: () => Promise<void>) =>
    work()
      .catch((err) => toast(errorMessage(err), 'error'))
      .finally(() => setProgress(null));
  /** The button spins while the API works (not while the confirm dialog is open). */
  const busy = async <T,>(kind: NonNullable<typeof pending>, work: () => Promise<T>) => {
    setPending(kind);
    try {
      return await work();
    } finally {
      setPending(null);
    }
  };

  const togglePause = () =>
    run(async () => {
      const pausing = !queue.paused;
      const ok = await confirm({
        title: pausing ? `Pause ${name}?` : `Resume ${name}?`,
        body: pausing
          ? `No ${name} task starts until you resume it: ${plural(queued, 'queued task')} will wait. ${plural(running, 'running task')} will finish.`
          : `${plural(queued, 'queued task')} of ${name} can start again.`,
        confirmLabel: pausing ? `Pause ${name}` : `Resume ${name}`,
        tone: 'primary',
      });
      if (!ok) return;
      const next = await busy('pause', () =>
        pausing ? api.pauseQueue(name) : api.resumeQueue(name),
      );
      onChanged(next);
      toast(next.paused ? `${name} is paused` : `${name} runs again`, 'success');
    });

  const saveLimit = (event: FormEvent) => {
    event.preventDefault();
    const text = limit.trim();
    const value = text === '' ? null : Number(text);
    if (value !== null && (!Number.isInteger(value) || value < 1)) {
      toast('The limit is a whole number of at least 1, or empty for none', 'error');
      return;
    }
    void run(async () => {
      const ok = await confirm({
        title:
          value === null
            ? `Remove the concurrency limit of ${name}?`
            : `Run at most ${plural(value, `${name} task`)} at once?`,
        body:
          value === null
            ? `Every worker runs ${name} tasks up to its own concurrency again.`
            : `Across all workers; ${plural(running, 'task')} of ${name} run now. The others wait their turn.`,
        confirmLabel: value === null ? 'Remove limit' : `Limit to ${value}`,
        tone: 'primary',
      });
      if (!ok) return;
      onChanged(await busy('limit', () => api.setQueueConcurrency(name, value)));
      toast(
        value === null ? `${name} has no limit now` : `${name} is limited to ${value}`,
        'success',
      );
    });
  };

  const retryFailed = () =>
    run(async () => {
      const filter = { workflow: name, status: 'failed' as const };
      const count = await busy('retry', () => countBulk('retry', filter));
      const total = count.eligible ?? 0;
      if (total === 0) {
        toast(`No failed ${name} task to retry`, 'info');
        return;
      }
      const ok = await confirm({
        title: `Retry ${plural(total, `failed ${name} task`)}?`,
        body: 'Each goes back to the queue with its attempts reset.',
        confirmLabel: `Retry ${formatNumber(total)}`,
        tone: 'primary',
      });
      if (!ok) return;
      const done = await busy('retry', () =>
        runBulkToEnd('retry', filter, count.asOf, (p) =>
          setProgress({
            text: `Re-queued ${formatNumber(p.done)} of ${formatNumber(total)}`,
            percent: (100 * (p.done + p.skipped + p.failedCount)) / total,
          }),
        ),
      );
      onTasksChanged();
      toast(
        `Re-queued ${plural(done.done, 'task')}${done.failedCount ? ` · ${done.failedCount} failed: ${done.failed[0]?.message}` : ''}`,
        done.failedCount ? 'error' : 'success',
      );
    });

  const removeFinished = () =>
    run(async () => {
      const finishedBefore = new Date(Date.now() - age).toISOString();
      const ageLabel = AGES.find((a) => a.ms === age)?.label ?? '';
      const count = await busy('remove', () =>
        api.removeFinished(name, { finishedBefore, dryRun: true }),
      );
      if (count.matched === 0) {
        toast(`No ${name} task finished more than ${ageLabel} ago`, 'info');
        return;
      }
      const ok = await confirm({
        title: `Remove ${plural(count.matched, `finished ${name} task`)}?`,
        body: `Completed, failed and cancelled tasks that finished before ${formatDateTime(finishedBefore)}, with their results and logs. This cannot be undone.`,
        confirmLabel: `Remove ${formatNumber(count.matched)}`,
      });
      if (!ok) return;
      const removed = await busy('remove', () =>
        removeFinishedToEnd(name, finishedBefore, (n) =>
          setProgress({
            text: `Removed ${formatNumber(n)} of ${formatNumber(count.matched)}`,
            percent: (100 * n) / count.matched,
          }),
        ),
      );
      onTasksChanged();
      toast(`Removed ${plural(removed, 'finished task')} of ${name}`, 'success');
    });

  return (
    <tr data-queue={name}>
      <th scope="row">
        <span className="tag">{name}</span>
      </th>
      <td>
        {queue.paused ? (
          <Badge tone="amber" dot title={`No ${name} task starts until it is resumed`}>
            paused
          </Badge>
        ) : (
          <Badge tone="green" dot title={`Workers start ${name} tasks as slots free up`}>
            active
          </Badge>
        )}
      </td>
      <td>
        <form className="toolbar" onSubmit={saveLimit} aria-label={`Global concurrency of ${name}`}>
          <label className="visually-hidden" htmlFor={`limit-${name}`}>
            At most this many {name} tasks at once, on all workers (empty: no limit)
          </label>
          <input
            id={`limit-${name}`}
            className="input"
            style={{ width: 96 }}
            inputMode="numeric"
            placeholder="no limit"
            value={limit}
            onChange={(e) => setLimit(e.target.value)}
            autoComplete="off"
          />
          <Button
            size="sm"
            type="submit"
            pending={pending === 'limit'}
            disabled={limit.trim() === (queue.globalConcurrency?.toString() ?? '')}
          >
            Set
          </Button>
        </form>
      </td>
      <td>
        <div className="toolbar">
          <Button
            size="sm"
            icon={queue.paused ? <PlayIcon /> : <PauseIcon />}
            pending={pending === 'pause'}
            onClick={() => void togglePause()}
          >
            {queue.paused ? 'Resume' : 'Pause'}
            <span className="visually-hidden"> {name}</span>
          </Button>
          <Button
            size="sm"
            icon={<RetryIcon />}
            pending={pending === 'retry'}
            disabled={pending !== null && pending !== 'retry'}
            onClick={() => void retryFailed()}
          >
            Retry failed<span className="visually-hidden"> {name} tasks</span>
            {stats?.byStatus.failed ? ` (${formatNumber(stats.byStatus.failed)})` : ''}
          </Button>
          <label className="visually-hidden" htmlFor={`age-${name}`}>
            Remove {name} tasks finished more than
          </label>
          <select
            id={`age-${name}`}
            className="select"
            value={age}
            onChange={(e) => setAge(Number(e.target.value))}
          >
            {AGES.map((a) => (
              <option key={a.ms} value={a.ms}>
                older than {a.label}
              </option>
            ))}
          </select>
          <Button
            size="sm"
            variant="danger"
            icon={<TrashIcon />}
            pending={pending === 'remove'}
            onClick={() => void removeFinished()}
          >
            Remove finished<span className="visually-hidden"> {name} tasks</span>
          </Button>
        </div>
        {progress && (
          <div className="cell-progress" role="status" style={{ marginTop: 6 }}>
            <ProgressBar percent={progress.percent} label={`Progress on ${name}`} />
            <span>{progress.text}</span>
          </div>
        )}
      </td>
    </tr>
  );
}

/** Over a list of one workflow's tasks: its queue is paused, so its queued tasks wait. */
export function PausedQueueNotice({
  workflow,
  workflows,
}: {
  workflow: string | undefined;
  workflows: readonly WorkflowInfo[] | undefined;
}) {
  const paused = workflows?.filter(
    (w) => w.paused && (workflow === undefined || w.name === workflow),
  );
  if (!paused || paused.length === 0) return null;
  const names = paused.map((w) => w.name).join(', ');
  return (
    <Callout tone="warning" title={`Paused: ${names}`}>
      Queued tasks of {names} wait until {paused.length === 1 ? 'it is' : 'they are'} resumed on the{' '}
      <Link href="/#queue-controls" className="link">
        dashboard
      </Link>
      .
    </Callout>
  );
}
