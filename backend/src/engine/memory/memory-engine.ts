import {
  type BulkAction,
  type BulkActionRequest,
  type CheckSchedule,
  type CreateTask,
  type ListTasksQuery,
  QUEUE_LIMITS,
  type QueueState,
  type UpsertSchedule,
} from '@taskdock/shared/contract';
import type { Logger } from 'pino';
import { loadConfig } from '../../config.ts';
import { previewCronSchedule } from '../../tasks/cron-check.ts';
import type { FinishedTask } from '../../tasks/event-relay.ts';
import { EVENTS_MAX_LEN, parseTaskId } from '../../tasks/keys.ts';
import { validateTask, validateTasks } from '../../tasks/task-validation.ts';
import type { WorkflowRegistry } from '../../workflows/registry.ts';
import { workflowInfos } from '../../workflows/workflow-info.ts';
import { runBulkAction } from '../bulk-actions.ts';
import { NotFoundError, taskNotFound } from '../errors.ts';
import type { QueueChange, TaskEngine } from '../task-engine.ts';
import { EventRing } from './event-ring.ts';
import { MemorySchedules } from './memory-schedules.ts';
import { MemoryStats } from './memory-stats.ts';
import { type MemoryRunLimits, MemoryTasks } from './memory-tasks.ts';

export interface MemoryEngineOptions {
  readonly registry: WorkflowRegistry;
  readonly retentionDays: number;
  readonly logger: Logger;
  /** Tasks run at once (TASKDOCK_CONCURRENCY). */
  readonly concurrency: number;
  /** Finished tasks kept at most (TASKDOCK_MEMORY_MAX_TASKS); the oldest finished go first. */
  readonly maxTasks?: number;
  /** Queued, scheduled and running tasks at most; a create past it is refused (503). */
  readonly maxUnfinished?: number;
  /** How long cancel waits for a running task to stop. */
  readonly cancelWaitMs?: number;
  readonly onFinished?: (task: FinishedTask) => void;
  /**
   * The shell env of the registry's `shell` workflow (the registry is made with it, so it is not
   * used here; accepted so both engines are made from the same settings).
   */
  readonly shellEnv?: Record<string, string>;
  /** How often finished tasks past the retention period are removed (default ten minutes). */
  readonly retentionSweepMs?: number;
  /** Per-owner and per-workflow limits and output caps; the defaults are the config's. */
  readonly limits?: Partial<MemoryRunLimits>;
}

const DEFAULT_MAX_TASKS = 100_000;
const DEFAULT_MAX_UNFINISHED = 100_000;
const RETENTION_SWEEP_MS = 10 * 60_000;

/** The limits an unset environment gives: the same defaults a worker process starts with. */
function defaultLimits(): MemoryRunLimits {
  const config = loadConfig({ TASKDOCK_STORE: 'memory' });
  return {
    maxPerOwner: config.maxPerOwner,
    globalConcurrency: config.globalConcurrency,
    maxResultBytes: config.maxResultBytes,
    maxLogLines: config.maxLogLines,
    maxLogLineBytes: config.maxLogLineBytes,
    maxHttpBodyBytes: config.maxHttpBodyBytes,
  };
}

/**
 * The engine with everything in this process: tasks, queue, runner, schedules, events and
 * stats live in memory and vanish on exit (docs/engine.md, "Memory mode"). Workflows run as a
 * worker runs them (worker/task-attempt.ts); `shell` commands are child processes, so the event
 * loop stays free. Started: the runner and the retention sweep run until `close()`.
 */
export async function createMemoryEngine(options: MemoryEngineOptions): Promise<TaskEngine> {
  const { registry, logger } = options;
  const limits = { ...defaultLimits(), ...options.limits };
  const events = new EventRing(EVENTS_MAX_LEN, (err) =>
    logger.error({ err }, 'memory engine: an event listener failed'),
  );
  const stats = new MemoryStats(registry.list().map((w) => w.name));
  const tasks = new MemoryTasks({
    registry,
    logger,
    concurrency: options.concurrency,
    limits,
    retentionMs: options.retentionDays * 86_400_000,
    maxTasks: options.maxTasks ?? DEFAULT_MAX_TASKS,
    maxUnfinished: options.maxUnfinished ?? DEFAULT_MAX_UNFINISHED,
    cancelWaitMs: options.cancelWaitMs ?? 10_000,
    events,
    stats,
    ...(options.onFinished ? { onFinished: options.onFinished } : {}),
  });
  const schedules = new MemorySchedules(registry, tasks);
  const sweeper = setInterval(() => tasks.sweep(), options.retentionSweepMs ?? RETENTION_SWEEP_MS);
  sweeper.unref();

  const requireWorkflow = (workflow: string) => {
    if (!registry.get(workflow)) throw new NotFoundError(`No workflow named "${workflow}"`);
  };
  const queueState = (workflow: string): QueueState => ({
    workflow,
    paused: tasks.isPaused(workflow),
    globalConcurrency: tasks.globalConcurrency(workflow),
  });

  const engine: TaskEngine = {
    async create(input: CreateTask) {
      const params = validateTask(registry, input);
      tasks.checkRoom(1);
      return tasks.create(input, params);
    },
    async createMany(inputs: readonly CreateTask[]) {
      const checked = validateTasks(registry, inputs);
      tasks.checkRoom(inputs.length);
      return inputs.map((input, i) => tasks.create(input, checked[i] ?? {}));
    },
    get: async (id: string) => tasks.get(id),
    async checkTaskId(id: string) {
      const ref = parseTaskId(id);
      if (!ref || !registry.get(ref.queue)) throw taskNotFound(id);
    },
    list: async (query: ListTasksQuery) => tasks.list(query),
    cancel: (id: string) => tasks.cancel(id),
    retry: async (id: string) => tasks.retry(id),
    remove: (id: string) => tasks.remove(id),
    logs: async (id: string, limit?: number) => tasks.logs(id, limit),
    events,
    async stats() {
      const snapshot = stats.snapshot();
      return {
        ...snapshot,
        workflows: snapshot.workflows.map((w) => ({ ...w, paused: tasks.isPaused(w.name) })),
        workers: [tasks.worker()],
      };
    },
    workers: async () => [tasks.worker()],
    workflows: async () =>
      workflowInfos(registry, {
        workers: (name) => (registry.get(name) ? 1 : 0),
        paused: (name) => tasks.isPaused(name),
      }),
    upsertSchedule: async (name: string, input: UpsertSchedule) => schedules.upsert(name, input),
    listSchedules: async () => schedules.list(),
    removeSchedule: async (name: string) => schedules.remove(name),
    pauseSchedule: async (name: string) => schedules.pause(name),
    resumeSchedule: async (name: string) => schedules.resume(name),
    checkSchedule: async (input: CheckSchedule) => ({
      nextRuns: previewCronSchedule(input.pattern, input.tz),
    }),
    queues: async () => registry.list().map((w) => queueState(w.name)),
    async updateQueue(workflow: string, change: QueueChange) {
      requireWorkflow(workflow);
      if (change.globalConcurrency !== undefined) {
        tasks.setGlobalConcurrency(workflow, change.globalConcurrency);
      }
      if (change.paused !== undefined) tasks.setPaused(workflow, change.paused);
      return queueState(workflow);
    },
    async removeFinished(workflow, request) {
      requireWorkflow(workflow);
      return tasks.removeFinished(
        workflow,
        Date.parse(request.finishedBefore),
        request.dryRun === true,
        QUEUE_LIMITS.maxRemovePerCall,
      );
    },
    bulk: (action: BulkAction, request: BulkActionRequest) =>
      runBulkAction(engine, action, request, (err, taskId) =>
        logger.error({ err, taskId, action }, 'bulk action failed on a task'),
      ),
    async retryWithParams(id: string, params: Record<string, unknown>) {
      const task = tasks.requireRetryable(id);
      const checked = validateTask(registry, { workflow: task.workflow, params });
      return tasks.retryWithParams(id, checked);
    },
    async ping() {},
    async close() {
      clearInterval(sweeper);
      await tasks.close();
      events.close();
    },
  };
  return engine;
}
