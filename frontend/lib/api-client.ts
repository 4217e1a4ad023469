// The one typed client of the Taskdock API. Same origin as the UI: the session cookie
// authenticates every call (and EventSource-like streams), so no token lives in the page.
import type {
  BulkAction,
  BulkActionRequest,
  BulkActionResult,
  CheckSchedule,
  CreatedWorkerToken,
  CreateTask,
  CreateWorkerToken,
  ErrorBody,
  FieldError,
  ListTasksQuery,
  QueueList,
  QueueState,
  Readiness,
  RemoteServingSetting,
  RemoteServingStatus,
  RemoveFinished,
  RemoveFinishedResult,
  Schedule,
  ScheduleCheck,
  ScheduleList,
  ServiceList,
  ServiceLogList,
  ServiceLogQuery,
  ServiceLogStreamQuery,
  SessionInfo,
  Stats,
  Task,
  TaskList,
  TaskLogs,
  UpsertSchedule,
  WorkerTokenList,
  WorkflowList,
} from '@taskdock/shared/contract';

/** A failed call: HTTP status plus the API's `{ error: { code, message, details } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** The raw response body, for endpoints whose non-2xx answers are data (readiness). */
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Field errors of a 400 (`path` is a JSON pointer such as `/body/params/command`). */
  get fieldErrors(): FieldError[] {
    return Array.isArray(this.details)
      ? (this.details as FieldError[]).filter((d) => typeof d?.path === 'string')
      : [];
  }
}

/** Network failure: the backend did not answer at all. */
export class OfflineError extends ApiError {
  constructor(cause: unknown) {
    super(0, 'OFFLINE', `Cannot reach the Taskdock backend (${(cause as Error).message})`);
    this.name = 'OfflineError';
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

const unauthorizedListeners = new Set<() => void>();

/** Called whenever the API answers 401: the session gate shows the sign-in help. */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function notifyUnauthorized(): void {
  for (const listener of unauthorizedListeners) listener();
}

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

async function request<T>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: { query?: Query; body?: unknown; signal?: AbortSignal } = {},
): Promise<{ status: number; data: T }> {
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      cache: 'no-store',
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new OfflineError(err);
  }
  if (response.status === 204) return { status: 204, data: undefined as T };
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = (json as ErrorBody | undefined)?.error;
    if (response.status === 401) notifyUnauthorized();
    throw new ApiError(
      response.status,
      error?.code ?? `HTTP_${response.status}`,
      error?.message ?? `${method} ${path} failed with HTTP ${response.status}`,
      error?.details,
      json,
    );
  }
  return { status: response.status, data: json as T };
}

const get = async <T>(path: string, query?: Query, signal?: AbortSignal) =>
  (await request<T>('GET', path, { query, signal })).data;
const post = async <T>(path: string, body?: unknown) =>
  (await request<T>('POST', path, { body })).data;
const taskPath = (id: string) => `/api/tasks/${encodeURIComponent(id)}`;
const queuePath = (workflow: string) => `/api/queues/${encodeURIComponent(workflow)}`;
const schedulePath = (name: string) => `/api/schedules/${encodeURIComponent(name)}`;

export type LogLevelFilter = ServiceLogQuery['level'];

export const api = {
  session: () => get<SessionInfo>('/api/session'),
  signOut: () => post<void>('/api/session/sign-out'),
  ready: async (): Promise<Readiness> => {
    // 503 carries the same body: "not ready" is an answer, not a failure.
    try {
      return await get<Readiness>('/api/health/ready');
    } catch (err) {
      if (err instanceof ApiError && err.status === 503) {
        return (
          (err.body as Readiness | undefined) ?? {
            ready: false,
            redis: { ok: false },
            workers: [],
          }
        );
      }
      throw err;
    }
  },
  workflows: (signal?: AbortSignal) => get<WorkflowList>('/api/workflows', undefined, signal),
  listTasks: (query: ListTasksQuery, signal?: AbortSignal) =>
    get<TaskList>('/api/tasks', { ...query }, signal),
  getTask: (id: string, signal?: AbortSignal) => get<Task>(taskPath(id), undefined, signal),
  /** `created` is false when an idempotency key returned an earlier task (200). */
  createTask: async (body: CreateTask): Promise<{ task: Task; created: boolean }> => {
    const { status, data } = await request<Task>('POST', '/api/tasks', { body });
    return { task: data, created: status === 201 };
  },
  cancelTask: (id: string) => post<Task>(`${taskPath(id)}/cancel`),
  retryTask: (id: string) => post<Task>(`${taskPath(id)}/retry`),
  /** Retries a failed or cancelled task with new params (a 400 names the failing field). */
  editRetryTask: (id: string, params: Record<string, unknown>) =>
    post<Task>(`${taskPath(id)}/edit-retry`, { params }),
  /** Cancel/retry/delete what the list's filters match: a dry run counts; go on with `nextCursor`. */
  bulkTasks: (action: BulkAction, body: BulkActionRequest) =>
    post<BulkActionResult>(`/api/tasks/bulk/${action}`, body),
  queues: (signal?: AbortSignal) => get<QueueList>('/api/queues', undefined, signal),
  pauseQueue: (workflow: string) => post<QueueState>(`${queuePath(workflow)}/pause`),
  resumeQueue: (workflow: string) => post<QueueState>(`${queuePath(workflow)}/resume`),
  setQueueConcurrency: (workflow: string, limit: number | null) =>
    post<QueueState>(`${queuePath(workflow)}/concurrency`, { limit }),
  removeFinished: (workflow: string, body: RemoveFinished) =>
    post<RemoveFinishedResult>(`${queuePath(workflow)}/remove-finished`, body),
  deleteTask: async (id: string) => {
    await request<void>('DELETE', taskPath(id));
  },
  taskLogs: (id: string, limit = 1000, signal?: AbortSignal) =>
    get<TaskLogs>(`${taskPath(id)}/logs`, { limit }, signal),
  stats: (signal?: AbortSignal) => get<Stats>('/api/stats', undefined, signal),
  services: (signal?: AbortSignal) => get<ServiceList>('/api/services', undefined, signal),
  logs: (query: ServiceLogQuery, signal?: AbortSignal) =>
    get<ServiceLogList>('/api/logs', { ...query }, signal),
  schedules: (signal?: AbortSignal) => get<ScheduleList>('/api/schedules', undefined, signal),
  saveSchedule: async (name: string, body: UpsertSchedule) =>
    (await request<Schedule>('PUT', schedulePath(name), { body })).data,
  /** The coming runs of a pattern and zone; a 400 names the field that is wrong. */
  checkSchedule: (body: CheckSchedule, signal?: AbortSignal) =>
    request<ScheduleCheck>('POST', '/api/schedules/check', { body, signal }).then((r) => r.data),
  pauseSchedule: (name: string) => post<Schedule>(`${schedulePath(name)}/pause`),
  resumeSchedule: (name: string) => post<Schedule>(`${schedulePath(name)}/resume`),
  deleteSchedule: async (name: string) => {
    await request<void>('DELETE', schedulePath(name));
  },

  remoteServing: (signal?: AbortSignal) =>
    get<RemoteServingStatus>('/api/remote-serving', undefined, signal),
  /** Saves the setting; the supervisor restarts the backend with it (a 400 names the field). */
  saveRemoteServing: async (body: RemoteServingSetting) =>
    (await request<RemoteServingStatus>('PUT', '/api/remote-serving', { body })).data,
  workerTokens: (signal?: AbortSignal) =>
    get<WorkerTokenList>('/api/worker-tokens', undefined, signal),
  /** The answer is the only place the token itself appears. */
  createWorkerToken: (body: CreateWorkerToken) =>
    post<CreatedWorkerToken>('/api/worker-tokens', body),
  revokeWorkerToken: async (id: string) => {
    await request<void>('DELETE', `/api/worker-tokens/${encodeURIComponent(id)}`);
  },
};

/** Server-sent event streams (read with `lib/sse.ts`). */
export const streams = {
  taskEvents: '/api/events',
  oneTaskEvents: (id: string) => `${taskPath(id)}/events`,
  logs: (query: ServiceLogStreamQuery) => withQuery('/api/logs/stream', { ...query }),
};

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
