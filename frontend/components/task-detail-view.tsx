'use client';

import type { Task, TaskEvent, TaskLogLine } from '@taskdock/shared/contract';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useState } from 'react';
import { ApiError, api, errorMessage } from '@/lib/api-client';
import { formatDateTime, formatDuration } from '@/lib/format';
import { applyTaskEvent, canCancel, canRetry, isFinal, taskDuration } from '@/lib/task-events';
import { scheduledRun, taskTitle } from '@/lib/task-title';
import { useNow, useResource, useThrottled } from '@/lib/use-resource';
import { EditRetryButton } from './edit-retry';
import { JsonBlock } from './json-block';
import { useTaskEvents } from './live-events';
import { PageHeader } from './page-header';
import { PausedQueueNotice } from './queue-controls';
import { RelativeTime } from './relative-time';
import { TaskStatusBadge } from './status-badge';
import { TaskAttempts } from './task-attempts';
import { TaskLogTail } from './task-log-tail';
import { Button, ButtonLink } from './ui/button';
import { Callout } from './ui/callout';
import { Card } from './ui/card';
import { useConfirm } from './ui/confirm-dialog';
import { EmptyState } from './ui/empty-state';
import { PlayIcon, RetryIcon, SearchIcon, StopIcon, TrashIcon } from './ui/icons';
import { ProgressBar } from './ui/progress-bar';
import { Loading } from './ui/spinner';
import { useToast } from './ui/toast';

/** The task log has no stream of its own yet: while a task runs, its tail is re-read this often. */
const LOG_REFRESH_MS = 1000;

export function TaskDetailView() {
  const id = useSearchParams().get('id');
  if (!id) {
    return (
      <div className="page">
        <EmptyState
          icon={<SearchIcon />}
          title="No task chosen"
          actions={<ButtonLink href="/tasks">Go to tasks</ButtonLink>}
        >
          Open a task from the task list.
        </EmptyState>
      </div>
    );
  }
  return <TaskDetail key={id} id={id} />;
}

function TaskDetail({ id }: { id: string }) {
  const router = useRouter();
  const toast = useToast();
  const confirm = useConfirm();
  const task = useResource(`task:${id}`, (signal) => api.getTask(id, signal));
  const workflows = useResource('workflows', (signal) => api.workflows(signal));
  const logs = useResource(`logs:${id}`, (signal) => api.taskLogs(id, 1000, signal));
  const [pending, setPending] = useState<'cancel' | 'retry' | 'delete' | null>(null);
  const now = useNow(1000);
  const current = task.data;
  const running = current?.status === 'running';

  const reloadLogs = useThrottled(() => void logs.reload(), 500);
  const reloadTask = useThrottled(() => void task.reload(), 300);
  useTaskEvents(
    (event: TaskEvent) => {
      if (event.taskId !== id) return;
      if (event.type === 'removed') {
        task.mutate(() => undefined);
        void task.reload();
        return;
      }
      task.mutate((t) => (t ? applyTaskEvent(t, event) : t));
      reloadLogs();
      // Final states bring a result, attempts and timestamps the event does not carry.
      if (event.status && (isFinal(event.status) || event.type === 'queued')) reloadTask();
    },
    () => {
      void task.reload();
      void logs.reload();
    },
  );

  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void logs.reload();
    }, LOG_REFRESH_MS);
    return () => clearInterval(timer);
  }, [running, logs.reload]);

  const act = async (kind: 'cancel' | 'retry') => {
    if (
      kind === 'cancel' &&
      !(await confirm({
        title: `Cancel task ${id}?`,
        body:
          current?.status === 'running'
            ? 'It is running: its worker stops it now (a shell task and its children are killed). Retry brings it back.'
            : 'It will not start. Retry brings it back.',
        confirmLabel: 'Cancel task',
        keepLabel: 'Keep task',
      }))
    ) {
      return;
    }
    setPending(kind);
    try {
      const updated = await (kind === 'cancel' ? api.cancelTask(id) : api.retryTask(id));
      task.mutate(() => updated);
      toast(
        kind === 'retry'
          ? 'Task re-queued'
          : updated.status === 'cancelled'
            ? 'Task cancelled'
            : // A remote worker stops it at its next heartbeat; the end arrives live.
              'Cancel requested: its worker stops it at its next heartbeat',
        'success',
      );
      void logs.reload();
    } catch (err) {
      toast(errorMessage(err), 'error');
      void task.reload();
    } finally {
      setPending(null);
    }
  };
  const remove = async () => {
    const ok = await confirm({
      title: `Delete task ${id}?`,
      body: 'Its params, result and logs are removed. This cannot be undone.',
      confirmLabel: 'Delete task',
      keepLabel: 'Keep task',
    });
    if (!ok) return;
    setPending('delete');
    try {
      await api.deleteTask(id);
      toast('Task deleted', 'success');
      router.push('/tasks');
    } catch (err) {
      toast(errorMessage(err), 'error');
      setPending(null);
    }
  };

  const breadcrumb = (
    <>
      <Link href="/tasks">Tasks</Link>
      <span aria-hidden="true">/</span>
      <span className="mono">{id}</span>
    </>
  );

  if (task.loading && !current) {
    return (
      <div className="page">
        <PageHeader title="Task" breadcrumb={breadcrumb} />
        <Loading label="Loading task…" />
      </div>
    );
  }
  if (!current) {
    const missing = task.error instanceof ApiError && task.error.status === 404;
    return (
      <div className="page">
        <PageHeader title="Task" breadcrumb={breadcrumb} />
        {missing || !task.error ? (
          <Card>
            <EmptyState
              icon={<SearchIcon />}
              title={`No task with id ${id}`}
              actions={<ButtonLink href="/tasks">Back to tasks</ButtonLink>}
            >
              It was deleted, or removed after the retention period (
              <code>TASKDOCK_RETENTION_DAYS</code>, 7 days by default).
            </EmptyState>
          </Card>
        ) : (
          <Callout
            tone="error"
            title="Could not load the task"
            action={
              <Button size="sm" onClick={() => void task.reload()}>
                Retry
              </Button>
            }
          >
            {errorMessage(task.error)}
          </Callout>
        )}
      </div>
    );
  }

  const t: Task = current;
  const duration = taskDuration(t, now);
  // The breadcrumb keeps the whole id; the heading names the task when something can.
  const { title, named } = taskTitle(t);
  const schedule = t.schedule ?? scheduledRun(t.id)?.schedule;
  const final = isFinal(t.status);
  return (
    <div className="page">
      <PageHeader
        breadcrumb={breadcrumb}
        title={
          <span style={{ display: 'inline-flex', alignItems: 'center', gap: 10 }}>
            {named ? (
              <span>{title}</span>
            ) : (
              <span className="mono" style={{ fontSize: 18 }}>
                {t.id}
              </span>
            )}
            <TaskStatusBadge status={t.status} />
          </span>
        }
        description={
          <>
            <span className="tag">{t.workflow}</span> created <RelativeTime iso={t.createdAt} />
            {t.owner && <> by {t.owner}</>}
          </>
        }
        actions={
          <>
            {canCancel(t) && (
              <Button
                variant="danger"
                icon={<StopIcon />}
                pending={pending === 'cancel'}
                onClick={() => void act('cancel')}
              >
                Cancel
              </Button>
            )}
            {canRetry(t) && (
              <Button
                icon={<RetryIcon />}
                pending={pending === 'retry'}
                onClick={() => void act('retry')}
              >
                Retry
              </Button>
            )}
            {canRetry(t) && (
              <EditRetryButton
                task={t}
                workflow={workflows.data?.items.find((w) => w.name === t.workflow)}
                onRetried={(next) => {
                  task.mutate(() => next);
                  void logs.reload();
                }}
              />
            )}
            <ButtonLink href={`/tasks/new?from=${encodeURIComponent(t.id)}`} icon={<PlayIcon />}>
              Run again
            </ButtonLink>
            {final && (
              <Button
                variant="ghost"
                iconOnly
                icon={<TrashIcon />}
                aria-label="Delete task"
                title="Delete task"
                pending={pending === 'delete'}
                onClick={() => void remove()}
              />
            )}
          </>
        }
      />

      {t.status === 'queued' && (
        <PausedQueueNotice workflow={t.workflow} workflows={workflows.data?.items} />
      )}
      {t.status === 'queued' &&
        workflows.data?.items.find((w) => w.name === t.workflow)?.workers === 0 && (
          <Callout tone="warning" title={`No worker serves workflow ${t.workflow}`}>
            This task waits until a worker whose <code>TASKDOCK_WORKFLOWS</code> matches{' '}
            <code>{t.workflow}</code> starts. See the{' '}
            <Link href="/services" className="link">
              services
            </Link>
            .
          </Callout>
        )}
      {!t.status ||
      !workflows.data ||
      workflows.data.items.some((w) => w.name === t.workflow) ? null : (
        <Callout tone="warning" title={`Workflow ${t.workflow} is not registered`}>
          This backend does not know the workflow; the task was added by another producer.
        </Callout>
      )}

      <div className="detail-grid">
        <div className="detail-main">
          <Card title="Progress">
            <div className="progress-head">
              <span className="percent" aria-hidden="true">
                {Math.round(t.progress.percent)}%
              </span>
              <span className="step" data-testid="progress-step">
                {t.progress.step ??
                  (t.status === 'queued'
                    ? 'Waiting for a worker'
                    : t.status === 'scheduled'
                      ? `Starts ${formatDateTime(t.scheduledFor)}`
                      : '')}
              </span>
            </div>
            <ProgressBar
              size="lg"
              percent={t.progress.percent}
              tone={final ? (t.status as 'completed' | 'failed' | 'cancelled') : undefined}
              label="Task progress"
            />
          </Card>

          {t.error && (
            <Card title={t.status === 'cancelled' ? 'Cancelled' : 'Error'}>
              <div className="error-box" role={t.status === 'failed' ? 'alert' : undefined}>
                {t.error.code && <strong>{t.error.code}: </strong>}
                {t.error.message}
              </div>
              {t.error.stack && (
                <details style={{ marginTop: 10 }}>
                  <summary className="muted" style={{ cursor: 'pointer' }}>
                    Stack trace
                  </summary>
                  <pre className="code-block" style={{ marginTop: 8 }}>
                    {t.error.stack}
                  </pre>
                </details>
              )}
            </Card>
          )}

          {(t.attemptHistory ?? []).length > 0 && (
            <Card title="Attempts" flush>
              <TaskAttempts attempts={t.attemptHistory ?? []} />
            </Card>
          )}

          {(t.result !== undefined || t.status === 'completed') && (
            <Card title="Result">
              <JsonBlock
                value={t.result}
                name={`${t.id}-result`}
                empty="The task returned nothing."
              />
            </Card>
          )}

          <Card
            title="Logs"
            flush
            actions={
              logs.error ? (
                <span className="field-error">{errorMessage(logs.error)}</span>
              ) : running ? (
                <span className="muted">following</span>
              ) : null
            }
          >
            <TaskLogTail lines={(logs.data?.lines ?? []) as TaskLogLine[]} running={running} />
          </Card>

          <Card title="Params">
            <JsonBlock value={t.params} name={`${t.id}-params`} empty="No params." />
          </Card>
        </div>

        <div className="detail-side">
          <Card title="Details">
            <dl className="dl">
              <dt>Workflow</dt>
              <dd>
                <Link href={`/tasks?workflow=${encodeURIComponent(t.workflow)}`} className="link">
                  {t.workflow}
                </Link>
              </dd>
              <dt>Attempts</dt>
              <dd>
                {t.attempts} of {t.maxAttempts}
              </dd>
              <dt>Priority</dt>
              <dd>{t.priority === 0 ? '0 (highest)' : t.priority}</dd>
              <dt>Timeout</dt>
              <dd>{t.timeoutMs ? formatDuration(t.timeoutMs) : 'none'}</dd>
              <dt>Owner</dt>
              <dd>{t.owner ?? '—'}</dd>
              <dt>Source</dt>
              <dd>
                {schedule ? (
                  <Link href={`/schedules#schedule-${schedule}`} className="link">
                    schedule {schedule}
                  </Link>
                ) : (
                  (t.source ?? '—')
                )}
              </dd>
              {t.idempotencyKey && (
                <>
                  <dt>Idempotency key</dt>
                  <dd className="mono">{t.idempotencyKey}</dd>
                </>
              )}
            </dl>
          </Card>
          <Card title="Timeline">
            <dl className="dl">
              <dt>Created</dt>
              <dd>{formatDateTime(t.createdAt)}</dd>
              {t.scheduledFor && (
                <>
                  <dt>Scheduled for</dt>
                  <dd>{formatDateTime(t.scheduledFor)}</dd>
                </>
              )}
              <dt>Started</dt>
              <dd>{formatDateTime(t.startedAt)}</dd>
              <dt>Finished</dt>
              <dd>{formatDateTime(t.finishedAt)}</dd>
              <dt>Duration</dt>
              <dd>{duration === undefined ? '—' : formatDuration(duration)}</dd>
              <dt>Updated</dt>
              <dd>
                <RelativeTime iso={t.updatedAt} />
              </dd>
            </dl>
          </Card>
        </div>
      </div>
    </div>
  );
}
