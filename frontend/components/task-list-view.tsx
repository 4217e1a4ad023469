'use client';

import { TASK_STATUSES, type TaskStatus, type TaskSummary } from '@taskdock/shared/contract';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useMemo, useRef, useState } from 'react';
import { api, errorMessage } from '@/lib/api-client';
import { runBulk } from '@/lib/bulk';
import { formatDuration, formatNumber, plural, shortId } from '@/lib/format';
import { canCancel, canRetry, taskDuration } from '@/lib/task-events';
import { taskTitle } from '@/lib/task-title';
import { useDebounced, useNow, useResource } from '@/lib/use-resource';
import { useSlashFocus } from '@/lib/use-slash-focus';
import { type TaskFilters, useTaskList } from '@/lib/use-task-list';
import { BulkMatchingBar } from './bulk-matching';
import { useTaskEvents } from './live-events';
import { PageHeader } from './page-header';
import { PausedQueueNotice } from './queue-controls';
import { RelativeTime } from './relative-time';
import { TaskStatusBadge } from './status-badge';
import { Button, ButtonLink } from './ui/button';
import { Callout } from './ui/callout';
import { useConfirm } from './ui/confirm-dialog';
import { EmptyState } from './ui/empty-state';
import { PlusIcon, RetryIcon, SearchIcon, StopIcon } from './ui/icons';
import { ProgressBar } from './ui/progress-bar';
import { Loading } from './ui/spinner';
import { useToast } from './ui/toast';

const isStatus = (value: string | null): value is TaskStatus =>
  value !== null && (TASK_STATUSES as readonly string[]).includes(value);

function useFilters(): [TaskFilters, (patch: Partial<TaskFilters>) => void] {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const status = params.get('status');
  const filters: TaskFilters = {
    status: isStatus(status) ? status : undefined,
    workflow: params.get('workflow') || undefined,
    owner: params.get('owner') || undefined,
    q: params.get('q') || undefined,
  };
  const update = (patch: Partial<TaskFilters>) => {
    const next = new URLSearchParams(params.toString());
    for (const [key, value] of Object.entries(patch)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    const search = next.toString();
    router.replace(search ? `${pathname}?${search}` : pathname, { scroll: false });
  };
  return [filters, update];
}

export function TaskListView() {
  const [filters, setFilters] = useFilters();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const list = useTaskList(filters, selected.size > 0);
  const workflows = useResource('workflows', (signal) => api.workflows(signal));
  const toast = useToast();
  const confirm = useConfirm();
  const now = useNow(1000);
  const searchRef = useRef<HTMLInputElement>(null);
  const [search, setSearch] = useState(filters.q ?? '');
  const [owner, setOwner] = useState(filters.owner ?? '');
  const debouncedSearch = useDebounced(search.trim(), 250);
  const debouncedOwner = useDebounced(owner.trim(), 300);
  const [bulkPending, setBulkPending] = useState<'cancel' | 'retry' | null>(null);

  useTaskEvents(list.onEvent, () => void list.reload(true));

  // biome-ignore lint/correctness/useExhaustiveDependencies: only a settled search changes the URL
  useEffect(() => {
    if ((filters.q ?? '') !== debouncedSearch) setFilters({ q: debouncedSearch || undefined });
  }, [debouncedSearch]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: only a settled owner changes the URL
  useEffect(() => {
    if ((filters.owner ?? '') !== debouncedOwner)
      setFilters({ owner: debouncedOwner || undefined });
  }, [debouncedOwner]);
  // A new filter starts a new selection.
  const filtersKey = JSON.stringify(filters);
  // biome-ignore lint/correctness/useExhaustiveDependencies: filtersKey stands for the filters
  useEffect(() => setSelected(new Set()), [filtersKey]);

  useSlashFocus(searchRef);

  const selectedTasks = useMemo(
    () => list.items.filter((t) => selected.has(t.id)),
    [list.items, selected],
  );
  const cancellable = selectedTasks.filter(canCancel);
  const retryable = selectedTasks.filter(canRetry);
  const allSelected = list.items.length > 0 && list.items.every((t) => selected.has(t.id));
  const filtered = Boolean(filters.status || filters.workflow || filters.owner || filters.q);

  const toggle = (id: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const bulk = async (kind: 'cancel' | 'retry', tasks: TaskSummary[]) => {
    const cancelling = tasks.length === 1 ? 'this task' : `these ${plural(tasks.length, 'task')}`;
    if (
      kind === 'cancel' &&
      !(await confirm({
        title: `Cancel ${plural(tasks.length, 'task')}?`,
        body: `Running ones are stopped now, waiting ones will not start. Retry brings ${cancelling} back.`,
        confirmLabel: `Cancel ${plural(tasks.length, 'task')}`,
        keepLabel: tasks.length === 1 ? 'Keep it' : 'Keep them',
      }))
    ) {
      return;
    }
    setBulkPending(kind);
    const result = await runBulk(
      tasks.map((t) => t.id),
      kind === 'cancel' ? api.cancelTask : api.retryTask,
    );
    setBulkPending(null);
    for (const task of result.done) list.replaceTask(task);
    setSelected(new Set());
    const verb = kind === 'cancel' ? 'Cancelled' : 'Re-queued';
    const parts = [`${verb} ${plural(result.done.length, 'task')}`];
    if (result.skipped) parts.push(`${result.skipped} had already changed`);
    if (result.failed.length)
      parts.push(`${result.failed.length} failed: ${result.failed[0]?.message}`);
    toast(parts.join(' · '), result.failed.length ? 'error' : 'success');
  };

  return (
    <div className="page">
      <PageHeader
        title="Tasks"
        description="Every task, newest first. Changes arrive live."
        actions={
          <ButtonLink href="/tasks/new" variant="primary" icon={<PlusIcon />}>
            New task
          </ButtonLink>
        }
      />

      <search className="toolbar" aria-label="Filter tasks">
        <label className="visually-hidden" htmlFor="task-search">
          Search by task id, workflow, owner or source
        </label>
        <input
          ref={searchRef}
          id="task-search"
          className="input input-search grow"
          type="search"
          placeholder="Search by id, workflow, owner or source…   /"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          autoComplete="off"
          spellCheck={false}
        />
        <label className="visually-hidden" htmlFor="filter-status">
          Status
        </label>
        <select
          id="filter-status"
          className="select"
          value={filters.status ?? ''}
          onChange={(e) =>
            setFilters({ status: (e.target.value || undefined) as TaskStatus | undefined })
          }
        >
          <option value="">All statuses</option>
          {TASK_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <label className="visually-hidden" htmlFor="filter-workflow">
          Workflow
        </label>
        <select
          id="filter-workflow"
          className="select"
          value={filters.workflow ?? ''}
          onChange={(e) => setFilters({ workflow: e.target.value || undefined })}
        >
          <option value="">All workflows</option>
          {(workflows.data?.items ?? []).map((w) => (
            <option key={w.name} value={w.name}>
              {w.paused ? `${w.name} (paused)` : w.name}
            </option>
          ))}
          {filters.workflow && !workflows.data?.items.some((w) => w.name === filters.workflow) && (
            <option value={filters.workflow}>{filters.workflow}</option>
          )}
        </select>
        <label className="visually-hidden" htmlFor="filter-owner">
          Owner
        </label>
        <input
          id="filter-owner"
          className="input"
          style={{ width: 150 }}
          placeholder="Owner"
          value={owner}
          onChange={(e) => setOwner(e.target.value)}
          autoComplete="off"
        />
        {filtered && (
          <Button
            variant="ghost"
            onClick={() => {
              setSearch('');
              setOwner('');
              setFilters({
                status: undefined,
                workflow: undefined,
                owner: undefined,
                q: undefined,
              });
            }}
          >
            Clear filters
          </Button>
        )}
      </search>

      {list.error ? (
        <Callout
          tone="error"
          title="Could not load tasks"
          action={
            <Button size="sm" onClick={() => void list.reload()}>
              Retry
            </Button>
          }
        >
          {errorMessage(list.error)}
        </Callout>
      ) : null}
      <PausedQueueNotice workflow={filters.workflow} workflows={workflows.data?.items} />

      <section className="card" aria-label="Task list">
        {selected.size > 0 && (
          <div className="bulk-bar" role="toolbar" aria-label="Selected tasks">
            <strong>{plural(selected.size, 'task')} selected</strong>
            <Button
              size="sm"
              variant="danger"
              icon={<StopIcon />}
              disabled={cancellable.length === 0}
              pending={bulkPending === 'cancel'}
              onClick={() => void bulk('cancel', cancellable)}
            >
              Cancel {cancellable.length > 0 && cancellable.length}
            </Button>
            <Button
              size="sm"
              icon={<RetryIcon />}
              disabled={retryable.length === 0}
              pending={bulkPending === 'retry'}
              onClick={() => void bulk('retry', retryable)}
            >
              Retry {retryable.length > 0 && retryable.length}
            </Button>
            <span className="toolbar-spacer" />
            <Button size="sm" variant="ghost" onClick={() => setSelected(new Set())}>
              Clear selection
            </Button>
          </div>
        )}
        {allSelected && list.nextCursor && (
          <BulkMatchingBar
            key={filtersKey}
            filter={filters}
            pageCount={list.items.length}
            onDone={() => {
              setSelected(new Set());
              void list.reload();
            }}
          />
        )}
        {list.pendingNew > 0 && (
          <button type="button" className="banner-button" onClick={() => void list.reload()}>
            {plural(list.pendingNew, 'new task')} · show
          </button>
        )}
        {list.loading && list.items.length === 0 ? (
          <div className="card-body">
            <Loading label="Loading tasks…" />
          </div>
        ) : list.items.length === 0 && !list.error ? (
          filtered ? (
            <EmptyState icon={<SearchIcon />} title="No tasks match these filters">
              Try another status or workflow, or search for part of a task id.
            </EmptyState>
          ) : (
            <EmptyState
              title="No tasks yet"
              actions={
                <ButtonLink href="/tasks/new" variant="primary" icon={<PlusIcon />}>
                  New task
                </ButtonLink>
              }
            >
              Submit a task from the form or with <code>POST /api/tasks</code>; it appears here at
              once.
            </EmptyState>
          )
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col" className="check">
                    <input
                      type="checkbox"
                      aria-label="Select all tasks on this page"
                      checked={allSelected}
                      onChange={() =>
                        setSelected(allSelected ? new Set() : new Set(list.items.map((t) => t.id)))
                      }
                    />
                  </th>
                  <th scope="col">Status</th>
                  <th scope="col">Task</th>
                  <th scope="col">Workflow</th>
                  <th scope="col">Progress</th>
                  <th scope="col" className="hide-narrow">
                    Owner
                  </th>
                  <th scope="col" className="num">
                    Attempts
                  </th>
                  <th scope="col">Created</th>
                  <th scope="col" className="num">
                    Duration
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.items.map((task) => (
                  <TaskRow
                    key={task.id}
                    task={task}
                    now={now}
                    selected={selected.has(task.id)}
                    fresh={list.fresh.has(task.id)}
                    onToggle={toggle}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {list.items.length > 0 && (
          <div className="list-footer">
            <span>
              {formatNumber(list.items.length)} shown{list.nextCursor ? ', more below' : ''}
            </span>
            {list.nextCursor && (
              <Button size="sm" pending={list.loadingMore} onClick={() => void list.loadMore()}>
                Load more
              </Button>
            )}
          </div>
        )}
      </section>
    </div>
  );
}

function TaskRow({
  task,
  now,
  selected,
  fresh,
  onToggle,
}: {
  task: TaskSummary;
  now: number;
  selected: boolean;
  fresh: boolean;
  onToggle: (id: string) => void;
}) {
  const duration = taskDuration(task, now);
  const { title, named } = taskTitle(task);
  const final =
    task.status === 'completed' || task.status === 'failed' || task.status === 'cancelled';
  return (
    <tr aria-selected={selected} className={fresh ? 'row-flash' : undefined} data-task-id={task.id}>
      <td className="check">
        <input
          type="checkbox"
          aria-label={`Select task ${task.id}`}
          checked={selected}
          onChange={() => onToggle(task.id)}
        />
      </td>
      <td>
        <TaskStatusBadge status={task.status} />
      </td>
      <td>
        <Link
          href={`/tasks/detail?id=${encodeURIComponent(task.id)}`}
          className={named ? 'task-link task-name' : 'task-link'}
          title={task.id}
        >
          {title}
        </Link>
        {task.status === 'failed' && task.error ? (
          <span className="cell-step" style={{ color: 'var(--red)' }} title={task.error.message}>
            {task.error.message}
          </span>
        ) : task.progress.step ? (
          <span className="cell-step" title={task.progress.step}>
            {task.progress.step}
          </span>
        ) : (
          named && <span className="cell-step mono">{shortId(task.id)}</span>
        )}
      </td>
      <td>
        <span className="tag">{task.workflow}</span>
      </td>
      <td>
        <div className="cell-progress">
          <ProgressBar
            percent={task.progress.percent}
            tone={final ? (task.status as 'completed' | 'failed' | 'cancelled') : undefined}
            label={`Progress of ${task.id}`}
          />
          <span>{Math.round(task.progress.percent)}%</span>
        </div>
      </td>
      <td className="hide-narrow">{task.owner ?? <span className="muted">—</span>}</td>
      <td className="num">
        {task.attempts}/{task.maxAttempts}
      </td>
      <td>
        <RelativeTime iso={task.createdAt} />
      </td>
      <td className="num nowrap">
        {duration === undefined ? <span className="muted">—</span> : formatDuration(duration)}
      </td>
    </tr>
  );
}
