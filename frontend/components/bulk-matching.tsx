'use client';

import type { BulkAction, BulkActionResult, BulkFilter } from '@taskdock/shared/contract';
import { useState } from 'react';
import { errorMessage } from '@/lib/api-client';
import { bulkVerb, countBulk, runBulkToEnd } from '@/lib/bulk-actions';
import { formatNumber, plural } from '@/lib/format';
import { Button } from './ui/button';
import { useConfirm } from './ui/confirm-dialog';
import { RetryIcon, StopIcon, TrashIcon } from './ui/icons';
import { ProgressBar } from './ui/progress-bar';
import { useToast } from './ui/toast';

interface Counts {
  readonly asOf: string;
  readonly matched: number;
  /** The count stopped early (very many tasks): "at least". */
  readonly partial: boolean;
  readonly eligible: Record<BulkAction, number>;
}

const ACTIONS: readonly BulkAction[] = ['cancel', 'retry', 'delete'];
const ICONS = { cancel: <StopIcon />, retry: <RetryIcon />, delete: <TrashIcon /> };
const APPLIES: Record<BulkAction, string> = {
  cancel: 'that have not finished',
  retry: 'that failed or were cancelled',
  delete: '',
};

/** The filters in words, for the confirm dialog. */
function describeFilter(filter: BulkFilter): string {
  const parts = [
    filter.status && `status ${filter.status}`,
    filter.workflow && `workflow ${filter.workflow}`,
    filter.owner && `owner ${filter.owner}`,
    filter.q && `“${filter.q}”`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'no filter (every task)';
}

/**
 * "Select all N matching": once a whole page is selected and more pages follow, this offers
 * the whole search, counts it on the server, and cancels, retries or deletes all of it in
 * bounded calls with progress. Tasks created after the count are left alone.
 */
export function BulkMatchingBar({
  filter,
  pageCount,
  onDone,
}: {
  filter: BulkFilter;
  /** Tasks selected on the loaded page(s). */
  pageCount: number;
  /** After an action (or "clear"): the list drops its selection and reloads. */
  onDone: () => void;
}) {
  const confirm = useConfirm();
  const toast = useToast();
  const [counts, setCounts] = useState<Counts | null>(null);
  const [counting, setCounting] = useState(false);
  const [running, setRunning] = useState<{ action: BulkAction; done: number } | null>(null);

  const selectAll = async () => {
    setCounting(true);
    try {
      const first = await countBulk('cancel', filter);
      const rest = await Promise.all(
        (['retry', 'delete'] as const).map((action) => countBulk(action, filter, first.asOf)),
      );
      const [retry, all] = rest as [BulkActionResult, BulkActionResult];
      setCounts({
        asOf: first.asOf,
        matched: all.matched ?? 0,
        partial: all.nextCursor !== null,
        eligible: {
          cancel: first.eligible ?? 0,
          retry: retry.eligible ?? 0,
          delete: all.eligible ?? 0,
        },
      });
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setCounting(false);
    }
  };

  const act = async (action: BulkAction) => {
    if (!counts) return;
    const total = counts.eligible[action];
    const ok = await confirm({
      title: `${bulkVerb(action)} ${plural(total, 'task')}?`,
      body: (
        <>
          Every task matching {describeFilter(filter)} {APPLIES[action]}
          {action === 'delete' ? ', with its result and logs. This cannot be undone.' : '.'} Tasks
          created after you selected them are left alone.
        </>
      ),
      confirmLabel: `${bulkVerb(action)} ${formatNumber(total)}`,
      tone: action === 'retry' ? 'primary' : 'danger',
    });
    if (!ok) return;
    setRunning({ action, done: 0 });
    try {
      const result = await runBulkToEnd(action, filter, counts.asOf, (p) =>
        setRunning({ action, done: p.done + p.skipped + p.failedCount }),
      );
      const parts = [`${bulkVerb(action, true)} ${plural(result.done, 'task')}`];
      if (result.skipped) parts.push(`${result.skipped} had already changed`);
      if (result.failedCount) {
        parts.push(`${result.failedCount} failed: ${result.failed[0]?.message ?? ''}`);
      }
      toast(parts.join(' · '), result.failedCount ? 'error' : 'success');
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setRunning(null);
      setCounts(null);
      onDone();
    }
  };

  if (running && counts) {
    const total = Math.max(1, counts.eligible[running.action]);
    return (
      <div className="bulk-bar" role="status" aria-live="polite">
        <strong>
          {bulkVerb(running.action)}: {formatNumber(running.done)} of{' '}
          {formatNumber(counts.eligible[running.action])}
        </strong>
        <div style={{ flex: 1, maxWidth: 320 }}>
          <ProgressBar percent={(100 * running.done) / total} label="Bulk action progress" />
        </div>
      </div>
    );
  }

  if (!counts) {
    return (
      <div className="bulk-bar">
        <span>All {plural(pageCount, 'task')} shown are selected; more match this search.</span>
        <Button size="sm" variant="ghost" pending={counting} onClick={() => void selectAll()}>
          Select all matching
        </Button>
      </div>
    );
  }

  return (
    <div className="bulk-bar" role="toolbar" aria-label="All matching tasks">
      <strong>
        All {counts.partial ? 'at least ' : ''}
        {plural(counts.matched, 'matching task')} selected
      </strong>
      {ACTIONS.map((action) => (
        <Button
          key={action}
          size="sm"
          variant={action === 'retry' ? 'default' : 'danger'}
          icon={ICONS[action]}
          disabled={counts.eligible[action] === 0}
          onClick={() => void act(action)}
        >
          {bulkVerb(action)} {formatNumber(counts.eligible[action])}
        </Button>
      ))}
      <span className="toolbar-spacer" />
      <Button size="sm" variant="ghost" onClick={onDone}>
        Clear selection
      </Button>
    </div>
  );
}
