import { type ByStatus, TASK_STATUSES, type TaskStatus } from '@taskdock/shared/contract';
import { THROUGHPUT_BUCKET_MS } from '../../tasks/keys.ts';
import { throughputBuckets, throughputRates } from '../../tasks/throughput.ts';

type Outcome = 'created' | 'completed' | 'failed' | 'cancelled';
type Counts = Record<Outcome, number>;

const emptyCounts = (): Counts => ({ created: 0, completed: 0, failed: 0, cancelled: 0 });
const emptyByStatus = () => Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as ByStatus;

/** Totals since the engine started, tasks by status now, and finished tasks per bucket. */
export class MemoryStats {
  readonly #totals = emptyCounts();
  readonly #perWorkflow = new Map<string, { totals: Counts; byStatus: ByStatus }>();
  /** Bucket → finished tasks in it, '*' for all workflows. */
  readonly #finished = new Map<number, Map<string, number>>();

  constructor(workflows: readonly string[]) {
    for (const name of workflows) this.#workflow(name);
  }

  #workflow(name: string) {
    let entry = this.#perWorkflow.get(name);
    if (!entry) {
      entry = { totals: emptyCounts(), byStatus: emptyByStatus() };
      this.#perWorkflow.set(name, entry);
    }
    return entry;
  }

  count(workflow: string, outcome: Outcome, now = Date.now()): void {
    this.#totals[outcome]++;
    this.#workflow(workflow).totals[outcome]++;
    if (outcome === 'created') return;
    const bucket = Math.floor(now / THROUGHPUT_BUCKET_MS);
    let counts = this.#finished.get(bucket);
    if (!counts) {
      counts = new Map();
      this.#finished.set(bucket, counts);
      const oldest = throughputBuckets(now)[0] ?? bucket;
      for (const key of this.#finished.keys()) if (key < oldest) this.#finished.delete(key);
    }
    counts.set('*', (counts.get('*') ?? 0) + 1);
    counts.set(workflow, (counts.get(workflow) ?? 0) + 1);
  }

  /** A stored task moved from `from` (undefined: it is new) to `to` (undefined: it is gone). */
  move(workflow: string, from: TaskStatus | undefined, to: TaskStatus | undefined): void {
    const { byStatus } = this.#workflow(workflow);
    if (from !== undefined) byStatus[from]--;
    if (to !== undefined) byStatus[to]++;
  }

  /** Tasks not yet finished (queued, scheduled or running). */
  unfinished(): number {
    let sum = 0;
    for (const { byStatus } of this.#perWorkflow.values()) {
      sum += byStatus.queued + byStatus.scheduled + byStatus.running;
    }
    return sum;
  }

  snapshot(now = Date.now()) {
    const rates = (field: string) =>
      throughputRates((bucket) => this.#finished.get(bucket)?.get(field) ?? 0, now);
    const byStatus = emptyByStatus();
    const workflows = [...this.#perWorkflow]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, entry]) => {
        for (const status of TASK_STATUSES) byStatus[status] += entry.byStatus[status];
        return {
          name,
          totals: { ...entry.totals },
          byStatus: { ...entry.byStatus },
          throughput: rates(name),
        };
      });
    return { totals: { ...this.#totals }, byStatus, workflows, throughput: rates('*') };
  }
}
