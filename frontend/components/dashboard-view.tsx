'use client';

import {
  type ByStatus,
  type Stats,
  TASK_STATUSES,
  type WorkerInfo,
  type WorkflowInfo,
} from '@taskdock/shared/contract';
import Link from 'next/link';
import { useEffect } from 'react';
import { ApiError, api, errorMessage } from '@/lib/api-client';
import { formatCompact, formatNumber, formatRate, plural } from '@/lib/format';
import { taskIdLabel } from '@/lib/task-title';
import { useResource, useThrottled } from '@/lib/use-resource';
import { SEED_LIMIT, useThroughput } from '@/lib/use-throughput';
import { useTaskEvents } from './live-events';
import { PageHeader } from './page-header';
import { QueueControlsCard } from './queue-controls';
import { RelativeTime } from './relative-time';
import { TASK_STATUS_COLOR } from './status-badge';
import { ThroughputChart } from './throughput-chart';
import { Badge } from './ui/badge';
import { Button, ButtonLink } from './ui/button';
import { Callout } from './ui/callout';
import { Card } from './ui/card';
import { EmptyState } from './ui/empty-state';
import { PlugIcon, PlusIcon } from './ui/icons';
import { ProgressBar } from './ui/progress-bar';
import { Loading } from './ui/spinner';
import { WorkerName } from './worker-name';

/** Worker heartbeats are not task events: look again now and then while the page is open. */
const WORKER_REFRESH_MS = 15_000;

export function DashboardView() {
  const stats = useResource('stats', (signal) => api.stats(signal));
  const workflows = useResource('workflows', (signal) => api.workflows(signal));
  const statsMissing = stats.error instanceof ApiError && stats.error.status === 404;
  // Without /api/stats the workers still come from the readiness check.
  const ready = useResource(statsMissing ? 'ready' : null, () => api.ready());
  const throughput = useThroughput(15);

  const refresh = useThrottled(() => {
    void stats.reload();
  }, 1000);
  useTaskEvents(
    (event) => {
      throughput.record(event);
      if (!statsMissing) refresh();
    },
    () => void stats.reload(),
  );
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState !== 'visible') return;
      void (statsMissing ? ready.reload() : stats.reload());
      void workflows.reload();
    }, WORKER_REFRESH_MS);
    return () => clearInterval(timer);
  }, [statsMissing, ready.reload, stats.reload, workflows.reload]);

  const data = stats.data;
  const workers = data?.workers ?? ready.data?.workers ?? [];
  const idle = data && data.totals.created === 0;

  return (
    <div className="page">
      <PageHeader
        title="Dashboard"
        description="What runs, what waits, and who runs it."
        actions={
          <ButtonLink href="/tasks/new" variant="primary" icon={<PlusIcon />}>
            New task
          </ButtonLink>
        }
      />

      {stats.error && !statsMissing ? (
        <Callout
          tone="error"
          title="Could not load statistics"
          action={
            <Button size="sm" onClick={() => void stats.reload()}>
              Retry
            </Button>
          }
        >
          {errorMessage(stats.error)}
        </Callout>
      ) : null}
      {statsMissing && (
        <Callout tone="info" title="Statistics are not available from this backend">
          It has no <code>GET /api/stats</code> yet. Tasks, workers and logs still work; update
          Taskdock to see counts and throughput here.
        </Callout>
      )}
      <UnservedWorkflows stats={data} workflows={workflows.data?.items} />

      {stats.loading && !statsMissing ? (
        <Loading label="Loading statistics…" />
      ) : data ? (
        <>
          <StatCards stats={data} />
          {idle && (
            <Card>
              <EmptyState
                title="No tasks yet"
                actions={
                  <ButtonLink href="/tasks/new" variant="primary" icon={<PlusIcon />}>
                    Submit your first task
                  </ButtonLink>
                }
              >
                Submit one from the form, or <code>POST /api/tasks</code> with the API token. Its
                progress shows up here as it happens.
              </EmptyState>
            </Card>
          )}
        </>
      ) : null}

      <div className="grid-2">
        <Card
          title="Throughput"
          actions={
            data && (
              <span className="muted tabular" style={{ fontSize: 12.5 }}>
                {formatRate(data.throughput.last1m)}/min now · {formatRate(data.throughput.last5m)}{' '}
                over 5 min · {formatRate(data.throughput.last15m)} over 15 min
              </span>
            )
          }
        >
          <ThroughputChart buckets={throughput.buckets} />
          {throughput.partialBefore && (
            <p className="field-hint" style={{ margin: '8px 0 0' }}>
              Bars before{' '}
              {new Date(throughput.partialBefore).toLocaleTimeString(undefined, {
                hour: '2-digit',
                minute: '2-digit',
              })}{' '}
              count only the newest {SEED_LIMIT} tasks; the rates above are exact.
            </p>
          )}
        </Card>
        <Card title="By status">
          {data ? <StatusBreakdown byStatus={data.byStatus} /> : <p className="muted">No data.</p>}
        </Card>
      </div>

      <QueueDepth stats={data} workflows={workflows.data?.items} error={workflows.error} />
      <QueueControlsCard
        stats={data}
        onChanged={() => {
          void stats.reload();
          void workflows.reload();
        }}
      />
      <Workers workers={workers} loading={stats.loading || ready.loading} />
    </div>
  );
}

function StatCards({ stats }: { stats: Stats }) {
  const waiting = stats.byStatus.queued + stats.byStatus.scheduled;
  const finished = stats.totals.completed + stats.totals.failed;
  const successRate = finished > 0 ? (stats.totals.completed / finished) * 100 : null;
  const cards = [
    {
      label: 'Running',
      value: formatNumber(stats.byStatus.running),
      sub: `${plural(
        stats.workers.reduce((n, w) => n + w.concurrency, 0),
        'slot',
      )} on ${plural(stats.workers.length, 'worker')}`,
      href: '/tasks?status=running',
    },
    {
      label: 'Waiting',
      value: formatNumber(waiting),
      sub: `${formatNumber(stats.byStatus.queued)} queued · ${formatNumber(stats.byStatus.scheduled)} scheduled`,
      href: '/tasks?status=queued',
    },
    {
      label: 'Completed',
      value: formatCompact(stats.totals.completed),
      sub: successRate === null ? 'since install' : `${successRate.toFixed(1)}% succeeded`,
      href: '/tasks?status=completed',
    },
    {
      // Counts every failed attempt since install, so it is no count of tasks: say which is which.
      label: 'Failed attempts',
      value: formatCompact(stats.totals.failed),
      sub: `since install · ${plural(stats.byStatus.failed, 'task')} failed now`,
      title:
        'Every failed attempt since install (a task retried three times counts three). ' +
        `"By status" counts tasks stored now: ${formatNumber(stats.byStatus.failed)} failed, ` +
        `${formatNumber(stats.byStatus.cancelled)} cancelled.`,
      href: '/tasks?status=failed',
      tone: stats.byStatus.failed > 0 ? 'var(--red)' : undefined,
    },
    {
      label: 'Throughput',
      value: `${formatRate(stats.throughput.last1m)}/min`,
      sub: `${formatCompact(stats.totals.created)} created since install`,
      href: '/tasks',
    },
  ];
  return (
    <div className="stat-grid">
      {cards.map((card) => (
        <Link key={card.label} href={card.href} className="card stat" title={card.title}>
          <span className="stat-label">{card.label}</span>
          <span className="stat-value" style={card.tone ? { color: card.tone } : undefined}>
            {card.value}
          </span>
          <span className="stat-sub">{card.sub}</span>
        </Link>
      ))}
    </div>
  );
}

function StatusBreakdown({ byStatus }: { byStatus: ByStatus }) {
  const total = TASK_STATUSES.reduce((n, s) => n + byStatus[s], 0);
  return (
    <div>
      <div className="status-bar" role="img" aria-label={`${formatNumber(total)} tasks stored`}>
        {total > 0 &&
          TASK_STATUSES.filter((s) => byStatus[s] > 0).map((status) => (
            <span
              key={status}
              style={{ flex: byStatus[status], background: TASK_STATUS_COLOR[status] }}
              title={`${status}: ${formatNumber(byStatus[status])}`}
            />
          ))}
      </div>
      <div className="status-legend">
        {TASK_STATUSES.map((status) => (
          <Link key={status} href={`/tasks?status=${status}`}>
            <span className="swatch" style={{ background: TASK_STATUS_COLOR[status] }} />
            {status}
            <span className="count">{formatNumber(byStatus[status])}</span>
          </Link>
        ))}
      </div>
      <p className="field-hint" style={{ margin: '12px 0 0' }}>
        Tasks stored now; finished ones are removed after the retention period.
      </p>
    </div>
  );
}

/** The most useful warning a task queue can give: work is waiting and nobody will take it. */
function UnservedWorkflows({
  stats,
  workflows,
}: {
  stats: Stats | undefined;
  workflows: WorkflowInfo[] | undefined;
}) {
  if (!stats || !workflows) return null;
  const unserved = stats.workflows.filter((w) => {
    const waiting = w.byStatus.queued + w.byStatus.scheduled;
    const info = workflows.find((x) => x.name === w.name);
    return waiting > 0 && (info?.workers ?? 0) === 0;
  });
  if (unserved.length === 0) return null;
  return (
    <Callout tone="warning" title={`No worker serves ${unserved.map((w) => w.name).join(', ')}`}>
      {unserved
        .map((w) => `${formatNumber(w.byStatus.queued + w.byStatus.scheduled)} ${w.name}`)
        .join(', ')}{' '}
      task(s) wait and will not start until a worker whose <code>TASKDOCK_WORKFLOWS</code> matches
      them is running. Check the{' '}
      <Link href="/services" className="link">
        services
      </Link>
      .
    </Callout>
  );
}

function QueueDepth({
  stats,
  workflows,
  error,
}: {
  stats: Stats | undefined;
  workflows: WorkflowInfo[] | undefined;
  error: unknown;
}) {
  const names = [
    ...new Set([
      ...(workflows ?? []).map((w) => w.name),
      ...(stats?.workflows ?? []).map((w) => w.name),
    ]),
  ];
  const rows = names.map((name) => ({
    name,
    info: workflows?.find((w) => w.name === name),
    stats: stats?.workflows.find((w) => w.name === name),
  }));
  const maxWaiting = Math.max(
    1,
    ...rows.map((r) => (r.stats ? r.stats.byStatus.queued + r.stats.byStatus.scheduled : 0)),
  );
  return (
    <Card title="Queues" flush>
      {error && !workflows ? (
        <div className="card-body">
          <Callout tone="error" title="Could not load workflows">
            {errorMessage(error)}
          </Callout>
        </div>
      ) : rows.length === 0 ? (
        <EmptyState title="No workflows registered" />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Workflow</th>
                <th scope="col">Waiting</th>
                <th scope="col" className="num">
                  Running
                </th>
                <th scope="col" className="num">
                  Failed
                </th>
                <th scope="col" className="num">
                  Completed
                </th>
                <th scope="col" className="num">
                  Per min (5 min)
                </th>
                <th scope="col" className="num">
                  Workers
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ name, info, stats: s }) => {
                const waiting = s ? s.byStatus.queued + s.byStatus.scheduled : 0;
                const workers = info?.workers ?? 0;
                return (
                  <tr key={name}>
                    <th scope="row">
                      <Link
                        href={`/tasks?workflow=${encodeURIComponent(name)}`}
                        className="task-link"
                      >
                        {name}
                      </Link>{' '}
                      {(info?.paused ?? s?.paused) && (
                        <Badge tone="amber" title={`No ${name} task starts until it is resumed`}>
                          paused
                        </Badge>
                      )}
                    </th>
                    <td>
                      <div
                        className="depth-bar"
                        title={
                          s
                            ? `${s.byStatus.queued} queued, ${s.byStatus.scheduled} scheduled`
                            : undefined
                        }
                      >
                        {waiting > 0 && (
                          <span
                            className="bar"
                            style={{
                              width: `${Math.max(2, Math.round((waiting / maxWaiting) * 100))}px`,
                            }}
                            aria-hidden="true"
                          />
                        )}
                        <span className="tabular">{s ? formatNumber(waiting) : '—'}</span>
                      </div>
                    </td>
                    <td className="num">{s ? formatNumber(s.byStatus.running) : '—'}</td>
                    <td
                      className="num"
                      style={s?.byStatus.failed ? { color: 'var(--red)' } : undefined}
                    >
                      {s ? formatNumber(s.byStatus.failed) : '—'}
                    </td>
                    <td className="num">{s ? formatCompact(s.totals.completed) : '—'}</td>
                    <td className="num">{s ? formatRate(s.throughput.last5m) : '—'}</td>
                    <td className="num">
                      {info === undefined ? (
                        '—'
                      ) : workers === 0 ? (
                        <Badge
                          tone={waiting > 0 ? 'red' : 'amber'}
                          title={`Start a worker whose TASKDOCK_WORKFLOWS matches ${name}`}
                        >
                          no worker
                        </Badge>
                      ) : (
                        formatNumber(workers)
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function Workers({ workers, loading }: { workers: WorkerInfo[]; loading: boolean }) {
  return (
    <Card
      title={
        <>
          Workers <Badge>{workers.length}</Badge>
        </>
      }
      flush
    >
      {workers.length === 0 ? (
        loading ? (
          <div className="card-body">
            <Loading />
          </div>
        ) : (
          <EmptyState icon={<PlugIcon />} title="No worker is running">
            Tasks wait in their queues until a worker starts. The supervisor starts one with
            Taskdock; see{' '}
            <Link href="/services" className="link">
              Services
            </Link>{' '}
            and the worker log.
          </EmptyState>
        )
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Worker</th>
                <th scope="col">Workflows</th>
                <th scope="col">Busy</th>
                <th scope="col">Running now</th>
                <th scope="col" className="hide-narrow">
                  Started
                </th>
                <th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {workers.map((worker) => (
                <tr key={worker.id}>
                  <td>
                    <WorkerName worker={worker} />
                  </td>
                  <td>
                    <div className="tags">
                      {worker.workflows.map((w) => (
                        <span key={w} className="tag">
                          {w}
                        </span>
                      ))}
                    </div>
                  </td>
                  <td>
                    <div className="meter">
                      <ProgressBar
                        percent={(worker.running / Math.max(1, worker.concurrency)) * 100}
                        label={`${worker.running} of ${worker.concurrency} slots busy`}
                      />
                      <span className="tabular muted">
                        {worker.running}/{worker.concurrency}
                      </span>
                    </div>
                  </td>
                  <td>
                    {worker.activeTasks.length === 0 ? (
                      <span className="muted">idle</span>
                    ) : (
                      <div className="tags">
                        {worker.activeTasks.slice(0, 3).map((id) => (
                          <Link
                            key={id}
                            href={`/tasks/detail?id=${encodeURIComponent(id)}`}
                            className="tag"
                            title={id}
                          >
                            {taskIdLabel(id, 22)}
                          </Link>
                        ))}
                        {worker.activeTasks.length > 3 && (
                          <span className="muted">+{worker.activeTasks.length - 3}</span>
                        )}
                      </div>
                    )}
                  </td>
                  <td className="hide-narrow">
                    <RelativeTime iso={worker.startedAt} />
                  </td>
                  <td>
                    <RelativeTime iso={worker.lastSeenAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
