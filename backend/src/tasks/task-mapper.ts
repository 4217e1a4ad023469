import type {
  Task,
  TaskAttempt,
  TaskLogLine,
  TaskProgress,
  TaskStatus,
  TaskSummary,
} from '@taskdock/shared/contract';
import { CANCELLED_REASON, formatTaskId } from './keys.ts';

/** What Taskdock keeps beside `job.data` (in the job's opts), so the data stays the params. */
export interface TaskMeta {
  owner?: string;
  source?: string;
  idempotencyKey?: string;
  timeoutMs?: number;
}

/** The job hash field where the worker records a failure's code (BullMQ keeps only the message). */
export const ERROR_CODE_FIELD = 'tdErrorCode';
/** The job hash field where the event relay keeps the task's attempt records (JSON). */
export const ATTEMPTS_FIELD = 'tdAttempts';

/**
 * Job hash field with the params edits of a task, oldest first (JSON `ParamsEdit[]`, the newest
 * edit-retry.ts keeps): the attempts before an edit ran with its `previous` params, those after it
 * with the job's data (or the next edit's `previous`).
 */
export const PARAMS_EDITS_FIELD = 'tdParamsEdits';

export interface ParamsEdit {
  /** When the params changed (ISO 8601). */
  readonly at: string;
  /** Top-level params that differ (names only: values may be secrets). */
  readonly changed: readonly string[];
  readonly previous: unknown;
}

/** An attempt as the relay stores it: times in ms. */
interface StoredAttempt {
  number: number;
  workerId?: string;
  startedAt: number;
  finishedAt?: number;
  outcome: TaskAttempt['outcome'];
  error?: { message: string; code?: string };
}

export function hashToRecord(flat: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i] as string] = flat[i + 1] as string;
  return record;
}

export function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
const num = (text: string | undefined) => (text ? Number(text) || 0 : 0);

export function toProgress(raw: unknown): TaskProgress {
  if (typeof raw === 'number') return { percent: clampPercent(raw) };
  if (raw && typeof raw === 'object' && 'percent' in raw) {
    const { percent, step } = raw as { percent: unknown; step?: unknown };
    return typeof step === 'string'
      ? { percent: clampPercent(Number(percent)), step }
      : { percent: clampPercent(Number(percent)) };
  }
  return { percent: 0 };
}

function readAttempts(text: string | undefined): TaskAttempt[] {
  const stored = parseJson(text);
  if (!Array.isArray(stored)) return [];
  return (stored as StoredAttempt[]).map((a) => {
    const attempt: TaskAttempt = {
      number: a.number,
      startedAt: iso(a.startedAt),
      outcome: a.outcome,
    };
    if (a.workerId) attempt.workerId = a.workerId;
    if (a.finishedAt !== undefined) {
      attempt.finishedAt = iso(a.finishedAt);
      attempt.durationMs = Math.max(0, a.finishedAt - a.startedAt);
    }
    if (a.error?.message) attempt.error = a.error;
    return attempt;
  });
}

/**
 * A finished task's last attempt ends as the task did, when BullMQ finished it: the relay closes
 * the record a moment later, with its own clock, and both reads must agree.
 */
function closeLastAttempt(task: TaskSummary, attempts: TaskAttempt[]): TaskAttempt[] {
  const last = attempts.at(-1);
  const { status } = task;
  const final = status === 'completed' || status === 'failed' || status === 'cancelled';
  if (!last || !final || !task.finishedAt) return attempts;
  if (last.outcome !== 'running' && last.outcome !== status) return attempts;
  const closed: TaskAttempt = {
    number: last.number,
    startedAt: last.startedAt,
    outcome: status,
    finishedAt: task.finishedAt,
    durationMs: Math.max(0, Date.parse(task.finishedAt) - Date.parse(last.startedAt)),
  };
  if (last.workerId) closed.workerId = last.workerId;
  if (task.error) {
    closed.error = { message: task.error.message };
    if (task.error.code) closed.error.code = task.error.code;
  }
  return [...attempts.slice(0, -1), closed];
}

/**
 * Once the params were edited before a retry, each attempt says which params it ran with: those
 * an edit replaced, for the attempts that started before it, else the current ones.
 */
function withEditedParams(
  attempts: TaskAttempt[],
  edits: unknown,
  current: unknown,
): TaskAttempt[] {
  if (!Array.isArray(edits) || edits.length === 0) return attempts;
  const byTime = (edits as ParamsEdit[]).map((e) => ({
    at: Date.parse(e.at),
    previous: e.previous,
  }));
  return attempts.map((attempt) => {
    const started = Date.parse(attempt.startedAt);
    const next = byTime.find((edit) => edit.at > started);
    return { ...attempt, params: next ? next.previous : current };
  });
}

/** Marks each log line with the attempt that was running when it was written. */
export function markAttempts(
  lines: TaskLogLine[],
  attempts: readonly TaskAttempt[],
): TaskLogLine[] {
  if (attempts.length === 0) return lines;
  const starts = attempts.map((a) => ({ number: a.number, at: Date.parse(a.startedAt) }));
  return lines.map((line) => {
    const at = Date.parse(line.ts);
    // The last attempt that started at or before the line (clocks of worker and Redis may
    // differ by a little: a line just before the first start belongs to the first attempt).
    let number = starts[0]?.number as number;
    for (const start of starts) if (start.at <= at) number = start.number;
    return { ...line, attempt: number };
  });
}

/** Tasks of a cron schedule have job ids `repeat:<schedule>:<run ms>` (BullMQ job schedulers). */
function scheduleOf(jobId: string): string | undefined {
  if (!jobId.startsWith('repeat:')) return undefined;
  const end = jobId.lastIndexOf(':');
  return end > 'repeat:'.length ? jobId.slice('repeat:'.length, end) : undefined;
}

const clampPercent = (n: number) => (Number.isFinite(n) ? Math.min(100, Math.max(0, n)) : 0);

/** Maps a BullMQ state (as read by the get-jobs script) and job hash to the public status. */
export function toStatus(state: string, hash: Record<string, string>, now: number): TaskStatus {
  switch (state) {
    case 'completed':
      return 'completed';
    case 'failed':
      return hash.failedReason === CANCELLED_REASON ? 'cancelled' : 'failed';
    case 'active':
      return 'running';
    case 'delayed': {
      // A delay the user asked for is "scheduled"; a retry backoff or an owner-slot wait is queued.
      const opts = parseJson(hash.opts) as { delay?: number } | undefined;
      const scheduledFor = num(hash.timestamp) + (opts?.delay ?? 0);
      return (opts?.delay ?? 0) > 0 && now < scheduledFor && num(hash.atm) === 0
        ? 'scheduled'
        : 'queued';
    }
    default:
      return 'queued';
  }
}

/** A task as lists show it, from a job hash read without its `returnvalue`. */
export function toTaskSummary(
  queue: string,
  jobId: string,
  state: string,
  hash: Record<string, string>,
  now = Date.now(),
): TaskSummary {
  const opts = (parseJson(hash.opts) ?? {}) as {
    attempts?: number;
    delay?: number;
    priority?: number;
    taskdock?: TaskMeta;
  };
  const meta = opts.taskdock ?? {};
  const status = toStatus(state, hash, now);
  const createdAt = num(hash.timestamp);
  const startedAt = num(hash.processedOn);
  const finishedAt = num(hash.finishedOn);
  const rawProgress = parseJson(hash.progress);
  const progress = status === 'completed' ? { percent: 100 } : toProgress(rawProgress);
  // Taskdock's workers stamp each progress report (`at`, ms): updatedAt moves with it.
  const stamp = (rawProgress as { at?: unknown } | undefined)?.at;
  const progressAt = typeof stamp === 'number' ? stamp : 0;
  const stacktrace = parseJson(hash.stacktrace);
  const firstAttempt = (parseJson(hash[ATTEMPTS_FIELD]) as StoredAttempt[] | undefined)?.[0];
  const task: TaskSummary = {
    id: formatTaskId(queue, jobId),
    workflow: queue,
    status,
    params: parseJson(hash.data) ?? {},
    progress,
    attempts: Math.max(num(hash.atm ?? hash.attemptsMade), num(hash.ats)),
    maxAttempts: Math.max(1, opts.attempts ?? 1),
    priority: num(hash.priority) || opts.priority || 0,
    createdAt: iso(createdAt),
    updatedAt: iso(Math.max(createdAt, startedAt, finishedAt, progressAt)),
  };
  const schedule = scheduleOf(jobId);
  if (schedule !== undefined) task.schedule = schedule;
  if (firstAttempt?.startedAt) task.firstStartedAt = iso(firstAttempt.startedAt);
  if (meta.owner !== undefined) task.owner = meta.owner;
  if (meta.source !== undefined) task.source = meta.source;
  if (meta.idempotencyKey !== undefined) task.idempotencyKey = meta.idempotencyKey;
  if (meta.timeoutMs !== undefined) task.timeoutMs = meta.timeoutMs;
  if ((opts.delay ?? 0) > 0) task.scheduledFor = iso(createdAt + (opts.delay ?? 0));
  if (startedAt) task.startedAt = iso(startedAt);
  if (finishedAt && (status === 'completed' || status === 'failed' || status === 'cancelled')) {
    task.finishedAt = iso(finishedAt);
  }
  if (hash.failedReason && status !== 'completed' && status !== 'cancelled') {
    task.error = { message: hash.failedReason };
    if (hash[ERROR_CODE_FIELD]) task.error.code = hash[ERROR_CODE_FIELD];
    if (Array.isArray(stacktrace) && typeof stacktrace.at(-1) === 'string') {
      task.error.stack = stacktrace.at(-1);
    }
  }
  return task;
}

/** The whole task: its summary and, once completed, its result. */
export function toTask(
  queue: string,
  jobId: string,
  state: string,
  hash: Record<string, string>,
  now = Date.now(),
): Task {
  const task: Task = toTaskSummary(queue, jobId, state, hash, now);
  if (task.status === 'completed') task.result = parseJson(hash.returnvalue) ?? null;
  const attempts = closeLastAttempt(task, readAttempts(hash[ATTEMPTS_FIELD]));
  task.attemptHistory = withEditedParams(
    attempts,
    parseJson(hash[PARAMS_EDITS_FIELD]),
    task.params,
  );
  return task;
}
