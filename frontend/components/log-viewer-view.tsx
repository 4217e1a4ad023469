'use client';

import {
  LOG_LEVEL_ORDER,
  SERVICE_LOG_LEVELS,
  SERVICE_LOG_SOURCES,
  type ServiceLogLevel,
  type ServiceLogLine,
  type ServiceLogSource,
} from '@taskdock/shared/contract';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, errorMessage } from '@/lib/api-client';
import { formatClock, formatNumber } from '@/lib/format';
import { useDebounced, useResource } from '@/lib/use-resource';
import { MAX_LINES, useServiceLogs } from '@/lib/use-service-logs';
import { useSlashFocus } from '@/lib/use-slash-focus';
import { Highlight } from './highlight';
import { PageHeader } from './page-header';
import { Button } from './ui/button';
import { Callout } from './ui/callout';
import { EmptyState } from './ui/empty-state';
import { ArrowDownIcon, DownloadIcon, LogsIcon } from './ui/icons';
import { useToast } from './ui/toast';
import { VirtualList } from './virtual-list';

const ROW_HEIGHT = 20;

const isSource = (v: string | null): v is ServiceLogSource =>
  v !== null && (SERVICE_LOG_SOURCES as readonly string[]).includes(v);
const isLevel = (v: string | null): v is ServiceLogLevel =>
  v !== null && (SERVICE_LOG_LEVELS as readonly string[]).includes(v);

interface Filters {
  service: ServiceLogSource | undefined;
  level: ServiceLogLevel | undefined;
  q: string;
}

function matches(line: ServiceLogLine, f: Filters, needle: string): boolean {
  if (f.service && line.service !== f.service) return false;
  if (f.level && LOG_LEVEL_ORDER[line.level] < LOG_LEVEL_ORDER[f.level]) return false;
  if (needle && !line.text.toLowerCase().includes(needle)) return false;
  return true;
}

/** Filtered view of the buffer, extended incrementally while only new lines arrive. */
function useFiltered(lines: ServiceLogLine[], version: number, filters: Filters): ServiceLogLine[] {
  const cache = useRef<{
    key: string;
    source: ServiceLogLine[];
    length: number;
    lastSeq: number;
    out: ServiceLogLine[];
  } | null>(null);
  const key = JSON.stringify(filters);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` marks in-place appends to `lines`
  return useMemo(() => {
    const needle = filters.q.toLowerCase();
    const c = cache.current;
    // Appended only (same filters, the old tail still in place): filter the new lines alone.
    if (
      c &&
      c.key === key &&
      c.source === lines &&
      lines.length >= c.length &&
      (c.length === 0 || lines[c.length - 1]?.seq === c.lastSeq)
    ) {
      const out = c.out;
      for (let i = c.length; i < lines.length; i++) {
        const line = lines[i] as ServiceLogLine;
        if (matches(line, filters, needle)) out.push(line);
      }
      cache.current = { ...c, length: lines.length, lastSeq: lines.at(-1)?.seq ?? -1 };
      return out;
    }
    const out = lines.filter((line) => matches(line, filters, needle));
    cache.current = {
      key,
      source: lines,
      length: lines.length,
      lastSeq: lines.at(-1)?.seq ?? -1,
      out,
    };
    return out;
  }, [lines, version, key]);
}

export function LogViewerView() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const toast = useToast();
  const logs = useServiceLogs();
  const supervision = useResource('services', (signal) => api.services(signal));
  const service = params.get('service');
  const level = params.get('level');
  const [search, setSearch] = useState(params.get('q') ?? '');
  const q = useDebounced(search, 150);
  const [follow, setFollow] = useState(true);
  const filters: Filters = {
    service: isSource(service) ? service : undefined,
    level: isLevel(level) ? level : undefined,
    q,
  };
  const visible = useFiltered(logs.lines, logs.version, filters);
  const searchRef = useRef<HTMLInputElement>(null);

  const setParam = (key: string, value: string | undefined) => {
    const next = new URLSearchParams(params.toString());
    if (value) next.set(key, value);
    else next.delete(key);
    const s = next.toString();
    router.replace(s ? `${pathname}?${s}` : pathname, { scroll: false });
  };

  // A narrower filter deserves more than the newest lines of all services: load its own backlog.
  const { backfill } = logs;
  useEffect(() => {
    if (!filters.service && !filters.level) return;
    backfill({ service: filters.service, level: filters.level }).catch((err) =>
      toast(`Could not load older lines: ${errorMessage(err)}`, 'error'),
    );
  }, [filters.service, filters.level, backfill, toast]);

  useSlashFocus(searchRef);

  const download = () => {
    const text = visible
      .map((l) => `${l.ts} ${l.service.padEnd(10)} ${l.level.toUpperCase().padEnd(5)} ${l.text}`)
      .join('\n');
    const blob = new Blob([`${text}\n`], { type: 'text/plain' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `taskdock-${filters.service ?? 'all'}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`;
    a.click();
    URL.revokeObjectURL(url);
  };

  const onFollowChange = useCallback((next: boolean) => setFollow(next), []);
  const notSupervised = supervision.data && !supervision.data.supervised;
  const needle = q;

  return (
    <div className="page" style={{ maxWidth: 'none' }}>
      <PageHeader title="Logs" description="Every service's log in one place, live." />
      {notSupervised ? (
        <div className="card">
          <EmptyState
            icon={<LogsIcon />}
            title="No service logs: the backend runs without its supervisor"
          >
            Service logs come from the supervisor. Start Taskdock with <code>npm run serve</code> or
            the desktop app to see them here; a task's own output is on its page.
          </EmptyState>
        </div>
      ) : (
        <section className="card log-viewer" aria-label="Service logs">
          <div className="card-header toolbar" style={{ flexWrap: 'wrap' }}>
            <label className="visually-hidden" htmlFor="log-service">
              Service
            </label>
            <select
              id="log-service"
              className="select"
              value={filters.service ?? ''}
              onChange={(e) => setParam('service', e.target.value || undefined)}
            >
              <option value="">All services</option>
              {SERVICE_LOG_SOURCES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
            <label className="visually-hidden" htmlFor="log-level">
              Minimum level
            </label>
            <select
              id="log-level"
              className="select"
              value={filters.level ?? ''}
              onChange={(e) => setParam('level', e.target.value || undefined)}
            >
              <option value="">All levels</option>
              {SERVICE_LOG_LEVELS.filter((l) => l !== 'trace').map((l) => (
                <option key={l} value={l}>
                  {l} and above
                </option>
              ))}
            </select>
            <label className="visually-hidden" htmlFor="log-search">
              Search
            </label>
            <input
              ref={searchRef}
              id="log-search"
              className="input input-search grow"
              type="search"
              placeholder="Search…   /"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
              spellCheck={false}
              autoComplete="off"
            />
            <Button
              aria-pressed={follow}
              icon={<ArrowDownIcon />}
              onClick={() => setFollow(!follow)}
              title="Keep the newest line in view"
            >
              Follow
            </Button>
            <Button icon={<DownloadIcon />} onClick={download} disabled={visible.length === 0}>
              Download
            </Button>
          </div>
          {supervision.error ? (
            <div style={{ padding: 12 }}>
              <Callout tone="error" title="Could not ask for the services">
                {errorMessage(supervision.error)}
              </Callout>
            </div>
          ) : null}
          <VirtualList
            className="log-scroll"
            count={visible.length}
            rowHeight={ROW_HEIGHT}
            follow={follow}
            onFollowChange={onFollowChange}
            label="Log lines"
            empty={
              <EmptyState
                icon={<LogsIcon />}
                title={logs.lines.length === 0 ? 'No log lines yet' : 'No line matches'}
              >
                {logs.lines.length === 0
                  ? logs.state === 'unavailable'
                    ? 'This backend has no log stream (GET /api/logs/stream).'
                    : 'Lines appear here as the services write them.'
                  : 'Try another service or level, or a shorter search.'}
              </EmptyState>
            }
            renderRow={(index, style) => {
              const line = visible[index] as ServiceLogLine;
              return (
                <div
                  key={line.seq}
                  className={`log-row lvl-row-${line.level}`}
                  style={style}
                  title={line.text}
                  data-service={line.service}
                >
                  <span className="ts">{formatClock(line.ts)}</span>
                  <span className={`log-service svc-${line.service}`}>{line.service}</span>
                  <span className={`lvl lvl-${line.level}`}>{line.level}</span>
                  <span className="text">
                    <Highlight text={line.text} query={needle} />
                  </span>
                </div>
              );
            }}
          />
          <div className="log-status" aria-live="polite">
            <span
              className={`dot ${logs.state === 'open' ? 'dot-green' : logs.state === 'unavailable' ? 'dot-red' : 'dot-amber'}`}
            />
            <span>
              {formatNumber(visible.length)} {visible.length === 1 ? 'line' : 'lines'}
              {visible.length !== logs.lines.length && ` of ${formatNumber(logs.lines.length)}`}
              {needle && ' match'}
            </span>
            {logs.lines.length >= MAX_LINES && (
              <span>keeps the newest {formatNumber(MAX_LINES)}</span>
            )}
            <span className="toolbar-spacer" />
            <Button size="sm" variant="ghost" onClick={logs.clear}>
              Clear view
            </Button>
          </div>
        </section>
      )}
    </div>
  );
}
