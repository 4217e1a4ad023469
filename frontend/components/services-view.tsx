'use client';

import type { ServiceInfo, ServiceLogLine } from '@taskdock/shared/contract';
import Link from 'next/link';
import { useEffect, useMemo } from 'react';
import { api, errorMessage } from '@/lib/api-client';
import { formatClock, formatDateTime, formatDuration } from '@/lib/format';
import { useNow, useResource, useThrottled } from '@/lib/use-resource';
import { useServiceLogs } from '@/lib/use-service-logs';
import { PageHeader } from './page-header';
import { RedisServerCard } from './redis-server-card';
import { RelativeTime } from './relative-time';
import { ServiceStatusBadge } from './status-badge';
import { Button } from './ui/button';
import { Callout } from './ui/callout';
import { EmptyState } from './ui/empty-state';
import { ServerIcon } from './ui/icons';
import { Loading } from './ui/spinner';

const LAST_LINES = 8;

const DESCRIPTIONS: Record<ServiceInfo['name'], string> = {
  redis: 'redis-server: queues, task state, events',
  worker: 'Runs the tasks of the workflows it serves',
  backend: 'The HTTP API and this UI',
};

export function ServicesView() {
  const services = useResource('services', (signal) => api.services(signal));
  const logs = useServiceLogs();
  const now = useNow(1000);

  // Status changes are logged by the supervisor: a new supervisor line is the cue to look again.
  const refresh = useThrottled(() => void services.reload(), 500);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` marks in-place appends
  const lastSupervisorSeq = useMemo(() => {
    for (let i = logs.lines.length - 1; i >= 0; i--) {
      const line = logs.lines[i] as ServiceLogLine;
      if (line.service === 'supervisor') return line.seq;
    }
    return -1;
  }, [logs.lines, logs.version]);
  useEffect(() => {
    if (lastSupervisorSeq >= 0) refresh();
  }, [lastSupervisorSeq, refresh]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` marks in-place appends
  const lastLines = useMemo(() => {
    const byService = new Map<string, ServiceLogLine[]>();
    for (let i = logs.lines.length - 1; i >= 0; i--) {
      const line = logs.lines[i] as ServiceLogLine;
      const card = cardId(line.service, line.instance);
      const list = byService.get(card) ?? [];
      if (list.length < LAST_LINES) {
        list.unshift(line);
        byService.set(card, list);
      }
      if (byService.size >= 4 && [...byService.values()].every((l) => l.length >= LAST_LINES))
        break;
    }
    return byService;
  }, [logs.lines, logs.version]);

  const data = services.data;
  return (
    <div className="page">
      <PageHeader
        title="Services"
        description="The processes the supervisor runs, in start order."
        actions={
          <Button onClick={() => void services.reload()} pending={services.loading && !!data}>
            Refresh
          </Button>
        }
      />
      {services.error ? (
        <Callout
          tone="error"
          title="Could not load the services"
          action={
            <Button size="sm" onClick={() => void services.reload()}>
              Retry
            </Button>
          }
        >
          {errorMessage(services.error)}
        </Callout>
      ) : null}
      {services.loading && !data ? (
        <Loading label="Loading services…" />
      ) : data && !data.supervised ? (
        <div className="card">
          <EmptyState icon={<ServerIcon />} title="Not running under the supervisor">
            This backend was started on its own (for example with <code>npm run dev:server</code>),
            so there are no supervised services to show. Start Taskdock with{' '}
            <code>npm run serve</code> or the desktop app to see redis, the worker and the backend
            here.
          </EmptyState>
        </div>
      ) : data ? (
        <div className="service-grid">
          {data.services.map((service) => (
            <ServiceCard
              key={cardId(service.name, service.instance)}
              service={service}
              now={now}
              lines={lastLines.get(cardId(service.name, service.instance)) ?? []}
            />
          ))}
        </div>
      ) : null}
      {data?.redis ? (
        <div style={{ marginTop: 16 }}>
          <RedisServerCard redis={data.redis} />
        </div>
      ) : null}
    </div>
  );
}

/** `worker`, or `worker-2` for one of several worker processes on this host. */
const cardId = (name: string, instance: number | undefined) =>
  instance === undefined ? name : `${name}-${instance}`;

function ServiceCard({
  service,
  now,
  lines,
}: {
  service: ServiceInfo;
  now: number;
  lines: ServiceLogLine[];
}) {
  const up =
    service.status === 'running' && service.startedAt
      ? now - Date.parse(service.startedAt)
      : undefined;
  return (
    <section
      className="card"
      aria-labelledby={`svc-${cardId(service.name, service.instance)}`}
      data-service={service.name}
    >
      <header className="card-header">
        <div>
          <h2 id={`svc-${cardId(service.name, service.instance)}`} className="mono">
            {service.instance === undefined ? service.name : `${service.name} ${service.instance}`}
          </h2>
          <span className="field-hint">{DESCRIPTIONS[service.name]}</span>
        </div>
        <ServiceStatusBadge status={service.status} />
      </header>
      <dl className="service-stats" style={{ margin: 0 }}>
        <div>
          <dt>PID</dt>
          <dd className="mono">{service.pid ?? '—'}</dd>
        </div>
        <div>
          <dt>Uptime</dt>
          <dd
            title={service.startedAt ? `started ${formatDateTime(service.startedAt)}` : undefined}
          >
            {up === undefined ? '—' : formatDuration(up)}
          </dd>
        </div>
        <div>
          <dt>Restarts</dt>
          <dd style={service.restarts > 0 ? { color: 'var(--amber)' } : undefined}>
            {service.restarts}
          </dd>
        </div>
        <div>
          <dt>Ready</dt>
          <dd>
            <RelativeTime iso={service.readyAt} />
          </dd>
        </div>
      </dl>
      {service.message && (
        <div style={{ padding: '12px 16px 0' }}>
          {service.status === 'unused' ? (
            <Callout tone="info">{service.message}</Callout>
          ) : (
            <Callout tone="error" title="Failed">
              {service.message}
            </Callout>
          )}
        </div>
      )}
      {service.lastExit && (
        <details style={{ padding: '10px 16px', borderBottom: '1px solid var(--border)' }}>
          <summary style={{ cursor: 'pointer' }}>
            Last exit <RelativeTime iso={service.lastExit.at} />: {service.lastExit.reason}
          </summary>
          {service.lastExit.lastLines.length > 0 && (
            <pre
              className="code-block"
              style={{ marginTop: 8, maxHeight: 200 }}
              role="log"
              aria-label={`Last lines of ${service.name} before it exited`}
              // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
              tabIndex={0}
            >
              {service.lastExit.lastLines.join('\n')}
            </pre>
          )}
        </details>
      )}
      <div className="card-header" style={{ borderTop: 0, minHeight: 0, padding: '8px 16px' }}>
        <h3 className="muted" style={{ fontWeight: 500 }}>
          Last log lines
        </h3>
        <Link href={`/logs?service=${service.name}`} className="link" style={{ fontSize: 12.5 }}>
          Open in logs
        </Link>
      </div>
      <pre
        className="service-lines"
        role="log"
        aria-label={`Last log lines of ${service.name}`}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
        tabIndex={0}
      >
        {lines.length === 0 ? (
          <span className="muted">No lines yet.</span>
        ) : (
          lines.map((line) => (
            <div
              key={line.seq}
              className={
                line.level === 'error' || line.level === 'fatal' ? 'log-stderr' : undefined
              }
            >
              <span className="muted">{formatClock(line.ts)}</span> {line.text}
            </div>
          ))
        )}
      </pre>
    </section>
  );
}
