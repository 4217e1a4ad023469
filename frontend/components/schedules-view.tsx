'use client';

import type { Schedule } from '@taskdock/shared/contract';
import Link from 'next/link';
import { useEffect, useRef, useState } from 'react';
import { api, errorMessage } from '@/lib/api-client';
import { plural } from '@/lib/format';
import { describeCron, formatRunTime, scheduleTasksHref } from '@/lib/schedules';
import { useResource, useThrottled } from '@/lib/use-resource';
import { useTaskEvents } from './live-events';
import { PageHeader } from './page-header';
import { RelativeTime } from './relative-time';
import { ScheduleForm } from './schedule-form';
import { TaskStatusBadge } from './status-badge';
import { Badge } from './ui/badge';
import { Button } from './ui/button';
import { Callout } from './ui/callout';
import { useConfirm } from './ui/confirm-dialog';
import { EmptyState } from './ui/empty-state';
import { ClockIcon, EditIcon, PauseIcon, PlayIcon, PlusIcon, TrashIcon } from './ui/icons';
import { Loading } from './ui/spinner';
import { useToast } from './ui/toast';

type Editing = { kind: 'new' } | { kind: 'edit'; schedule: Schedule } | null;

/** Every cron schedule with its pattern in words, next runs, last run and the tasks it made. */
export function SchedulesView() {
  const schedules = useResource('schedules', (signal) => api.schedules(signal));
  const workflows = useResource('workflows', (signal) => api.workflows(signal));
  const [editing, setEditing] = useState<Editing>(null);
  const toast = useToast();
  const formSlot = useRef<HTMLDivElement>(null);
  const items = schedules.data?.items ?? [];

  // A schedule's task changing moves its last run: look again (throttled).
  const refresh = useThrottled(() => void schedules.reload(), 1000);
  useTaskEvents(
    (event) => {
      if (event.taskId.includes(':repeat:')) refresh();
    },
    () => void schedules.reload(),
  );

  // A link to one schedule (`/schedules#schedule-<name>`, from a task's details) lands on it.
  const landed = useRef(false);
  useEffect(() => {
    if (landed.current || !schedules.data) return;
    landed.current = true;
    const id = decodeURIComponent(window.location.hash.slice(1));
    const target = id ? document.getElementById(id) : null;
    target?.scrollIntoView({ block: 'start' });
    target?.querySelector<HTMLElement>('h2')?.focus();
  }, [schedules.data]);

  useEffect(() => {
    if (!editing) return;
    formSlot.current?.scrollIntoView({ block: 'nearest' });
    formSlot.current?.querySelector<HTMLElement>('input, select, textarea')?.focus();
  }, [editing]);

  const saved = (schedule: Schedule) => {
    const existed = items.some((s) => s.id === schedule.id);
    schedules.mutate((list) =>
      list
        ? {
            items: [...list.items.filter((s) => s.id !== schedule.id), schedule].sort((a, b) =>
              a.id.localeCompare(b.id),
            ),
          }
        : list,
    );
    setEditing(null);
    toast(`Schedule ${schedule.id} ${existed ? 'saved' : 'created'}`, 'success');
    setTimeout(() =>
      document.getElementById(`schedule-${schedule.id}`)?.querySelector('h2')?.focus(),
    );
  };

  const replace = (schedule: Schedule) =>
    schedules.mutate((list) =>
      list ? { items: list.items.map((s) => (s.id === schedule.id ? schedule : s)) } : list,
    );
  const removed = (name: string) =>
    schedules.mutate((list) => (list ? { items: list.items.filter((s) => s.id !== name) } : list));

  const newButton = (
    <Button
      variant="primary"
      icon={<PlusIcon />}
      onClick={() => setEditing({ kind: 'new' })}
      disabled={!workflows.data}
    >
      New schedule
    </Button>
  );

  return (
    <div className="page">
      <PageHeader
        title="Schedules"
        description="Cron schedules that create tasks, each in its own time zone."
        actions={editing ? null : newButton}
      />
      {schedules.error || workflows.error ? (
        <Callout
          tone="error"
          title="Could not load the schedules"
          action={
            <Button
              size="sm"
              onClick={() => {
                void schedules.reload();
                void workflows.reload();
              }}
            >
              Retry
            </Button>
          }
        >
          {errorMessage(schedules.error ?? workflows.error)}
        </Callout>
      ) : null}

      <div ref={formSlot}>
        {editing && workflows.data && (
          <ScheduleForm
            key={editing.kind === 'edit' ? editing.schedule.id : 'new'}
            workflows={workflows.data.items}
            schedule={editing.kind === 'edit' ? editing.schedule : undefined}
            takenNames={items.map((s) => s.id)}
            onSaved={saved}
            onClose={() => setEditing(null)}
          />
        )}
      </div>

      {schedules.loading ? (
        <Loading label="Loading schedules…" />
      ) : items.length === 0 && !schedules.error && !editing ? (
        <section className="card" aria-label="Schedules">
          <EmptyState icon={<ClockIcon />} title="No schedules yet" actions={newButton}>
            A schedule creates a task of its workflow at every time its cron pattern matches, such
            as <code>0 9 * * 1-5</code>: every weekday at 09:00.
          </EmptyState>
        </section>
      ) : (
        <div className="schedule-list">
          {items.map((schedule) => (
            <ScheduleCard
              key={schedule.id}
              schedule={schedule}
              onEdit={() => setEditing({ kind: 'edit', schedule })}
              onChanged={replace}
              onRemoved={removed}
            />
          ))}
        </div>
      )}
    </div>
  );
}

function ScheduleCard({
  schedule: s,
  onEdit,
  onChanged,
  onRemoved,
}: {
  schedule: Schedule;
  onEdit: () => void;
  onChanged: (schedule: Schedule) => void;
  onRemoved: (name: string) => void;
}) {
  const [pending, setPending] = useState<'pause' | 'delete' | null>(null);
  const toast = useToast();
  const confirm = useConfirm();
  const words = describeCron(s.pattern);
  const titleId = `schedule-${s.id}-title`;

  const togglePause = async () => {
    setPending('pause');
    try {
      const next = await (s.paused ? api.resumeSchedule(s.id) : api.pauseSchedule(s.id));
      onChanged(next);
      toast(`Schedule ${s.id} ${next.paused ? 'paused' : 'resumed'}`, 'success');
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setPending(null);
    }
  };

  const remove = async () => {
    const ok = await confirm({
      title: `Delete schedule ${s.id}?`,
      body: (
        <>
          It stops creating <span className="mono">{s.workflow}</span> tasks
          {s.nextRuns[0] ? ` (next: ${formatRunTime(s.nextRuns[0], s.tz)})` : ''}. The{' '}
          {plural(s.taskCount, 'task')} it made stay in the task list.
        </>
      ),
      confirmLabel: 'Delete schedule',
      keepLabel: 'Keep schedule',
    });
    if (!ok) return;
    setPending('delete');
    try {
      await api.deleteSchedule(s.id);
      onRemoved(s.id);
      toast(`Schedule ${s.id} deleted`, 'success');
    } catch (err) {
      toast(errorMessage(err), 'error');
      setPending(null);
    }
  };

  return (
    <section
      className="card schedule-card"
      id={`schedule-${s.id}`}
      data-schedule={s.id}
      aria-labelledby={titleId}
    >
      <header className="card-header">
        <h2 id={titleId} className="mono" tabIndex={-1}>
          {s.id}
        </h2>
        {s.paused ? <Badge tone="amber">paused</Badge> : <Badge tone="green">active</Badge>}
        <span className="tag">{s.workflow}</span>
        <div className="page-actions">
          <Button size="sm" icon={<EditIcon />} onClick={onEdit} aria-label={`Edit ${s.id}`}>
            Edit
          </Button>
          <Button
            size="sm"
            icon={s.paused ? <PlayIcon /> : <PauseIcon />}
            pending={pending === 'pause'}
            onClick={() => void togglePause()}
            aria-label={`${s.paused ? 'Resume' : 'Pause'} ${s.id}`}
          >
            {s.paused ? 'Resume' : 'Pause'}
          </Button>
          <Button
            size="sm"
            variant="danger"
            iconOnly
            icon={<TrashIcon />}
            pending={pending === 'delete'}
            onClick={() => void remove()}
            aria-label={`Delete ${s.id}`}
            title={`Delete ${s.id}`}
          />
        </div>
      </header>
      <div className="card-body schedule-body">
        <dl className="dl">
          <dt>Runs</dt>
          <dd>
            <span className="cron-words">{'words' in words ? words.words : s.pattern}</span>
            <span className="muted">
              {' '}
              · <code>{s.pattern}</code> · {s.tz ?? "the server's time zone"}
            </span>
          </dd>
          <dt>Last run</dt>
          <dd>
            {s.lastRun ? (
              <span className="last-run">
                <TaskStatusBadge status={s.lastRun.status} />
                <Link
                  href={`/tasks/detail?id=${encodeURIComponent(s.lastRun.taskId)}`}
                  className="link"
                >
                  <RelativeTime iso={s.lastRun.finishedAt ?? s.lastRun.createdAt} />
                </Link>
                {s.lastRun.error && (
                  <span className="cell-step" title={s.lastRun.error}>
                    {s.lastRun.error}
                  </span>
                )}
              </span>
            ) : (
              <span className="muted">not run yet</span>
            )}
          </dd>
          <dt>Tasks</dt>
          <dd>
            <Link href={scheduleTasksHref(s.id)} className="link">
              {plural(s.taskCount, 'task')} it made
            </Link>
            {s.owner && <span className="muted"> · owner {s.owner}</span>}
          </dd>
          <dt>Params</dt>
          <dd>
            <code className="params-inline">{JSON.stringify(s.params)}</code>
          </dd>
        </dl>
        <div className="next-runs">
          <h3>Next runs</h3>
          {s.paused ? (
            <p className="muted">None while paused.</p>
          ) : (
            <ol aria-label={`Next runs of ${s.id}`}>
              {s.nextRuns.map((run) => (
                <li key={run}>
                  <time dateTime={run}>{formatRunTime(run, s.tz)}</time>
                </li>
              ))}
            </ol>
          )}
        </div>
      </div>
    </section>
  );
}
