import type { Schedule, UpsertSchedule } from '@taskdock/shared/contract';
import { nextRunTimes } from '../../tasks/cron-check.ts';
import { validateSchedule } from '../../tasks/task-validation.ts';
import type { WorkflowRegistry } from '../../workflows/registry.ts';
import { NotFoundError } from '../errors.ts';
import type { MemoryTasks } from './memory-tasks.ts';
import type { TaskRecord } from './task-record.ts';

interface Definition {
  readonly workflow: string;
  readonly pattern: string;
  readonly tz: string | undefined;
  readonly params: Record<string, unknown>;
  readonly owner: string | undefined;
}

interface Entry {
  definition: Definition;
  paused: boolean;
  /** The run waiting for its time (status `scheduled`), as BullMQ's job scheduler keeps one. */
  pending: TaskRecord | undefined;
  /** The newest run that came due. */
  last: TaskRecord | undefined;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Cron schedules in memory, made as BullMQ's job schedulers make them: each active schedule
 * has one run waiting for its time (a `scheduled` task); when that one comes due (or is
 * cancelled or removed first), the next one is made for the pattern's next time after it.
 * Patterns, zones and next times are BullMQ's (tasks/cron-check.ts).
 */
export class MemorySchedules {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly registry: WorkflowRegistry,
    private readonly tasks: MemoryTasks,
  ) {
    tasks.onScheduleDue = (record) => this.#advance(record);
  }

  upsert(name: string, input: UpsertSchedule): Schedule {
    const params = validateSchedule(this.registry, input);
    const definition: Definition = {
      workflow: input.workflow,
      pattern: input.pattern,
      tz: input.tz,
      params,
      owner: input.owner,
    };
    const previous = this.#entries.get(name);
    if (previous) this.#dropPending(previous);
    const entry: Entry = { definition, paused: false, pending: undefined, last: previous?.last };
    this.#entries.set(name, entry);
    this.#makeNext(name, entry, Date.now());
    return this.#view(name, entry);
  }

  list(): Schedule[] {
    return [...this.#entries]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, entry]) => this.#view(name, entry));
  }

  remove(name: string): void {
    const entry = this.#require(name);
    this.#dropPending(entry);
    this.#entries.delete(name);
  }

  pause(name: string): Schedule {
    const entry = this.#require(name);
    if (!entry.paused) {
      entry.paused = true;
      this.#dropPending(entry);
    }
    return this.#view(name, entry);
  }

  resume(name: string): Schedule {
    const entry = this.#require(name);
    if (entry.paused) {
      entry.paused = false;
      this.#makeNext(name, entry, Date.now());
    }
    return this.#view(name, entry);
  }

  #require(name: string): Entry {
    const entry = this.#entries.get(name);
    if (!entry) throw new NotFoundError(`No schedule named "${name}"`);
    return entry;
  }

  #dropPending(entry: Entry): void {
    const pending = entry.pending;
    entry.pending = undefined;
    if (pending) this.tasks.dropScheduled(pending);
  }

  /** A schedule's waiting run came due or left: the next one waits for the following time. */
  #advance(record: TaskRecord): void {
    const name = record.schedule as string;
    const entry = this.#entries.get(name);
    if (!entry || entry.pending !== record) return;
    entry.pending = undefined;
    if (record.status !== 'scheduled') entry.last = record;
    this.#makeNext(name, entry, Math.max(Date.now(), record.scheduledFor ?? 0));
  }

  #makeNext(name: string, entry: Entry, after: number): void {
    const { definition } = entry;
    const [at] = nextRunTimes(definition.pattern, definition.tz, 1, after);
    if (at === undefined) return;
    entry.pending = this.tasks.createScheduled({
      schedule: name,
      workflow: definition.workflow,
      params: definition.params,
      owner: definition.owner,
      at,
    });
  }

  #view(name: string, entry: Entry): Schedule {
    const { definition } = entry;
    const schedule: Schedule = {
      id: name,
      workflow: definition.workflow,
      pattern: definition.pattern,
      params: structuredClone(definition.params),
      paused: entry.paused,
      nextRuns: entry.paused
        ? []
        : nextRunTimes(definition.pattern, definition.tz).map((t) => iso(t)),
      taskCount: this.tasks.countOfSchedule(name),
    };
    if (definition.tz !== undefined) schedule.tz = definition.tz;
    if (definition.owner !== undefined) schedule.owner = definition.owner;
    const pending = entry.pending && this.tasks.find(entry.pending.id);
    if (pending?.scheduledFor !== undefined) schedule.nextRunAt = iso(pending.scheduledFor);
    const last = entry.last && this.tasks.find(entry.last.id);
    if (last) {
      schedule.lastRun = { taskId: last.id, status: last.status, createdAt: iso(last.createdAt) };
      if (last.finishedAt !== undefined) schedule.lastRun.finishedAt = iso(last.finishedAt);
      if (last.error) schedule.lastRun.error = last.error.message;
    }
    return schedule;
  }
}
