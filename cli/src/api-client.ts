import type {
  CompleteLease,
  CreatedWorkerToken,
  CreateTask,
  CreateWorkerToken,
  ErrorBody,
  FailLease,
  Heartbeat,
  HeartbeatAnswer,
  LeaseList,
  LeaseRequest,
  ListTasksQuery,
  ReleaseLease,
  Schedule,
  ScheduleList,
  ServiceList,
  Stats,
  Task,
  TaskList,
  TaskLogs,
  UpsertSchedule,
  WorkerTokenList,
  WorkflowList,
} from '@taskdock/shared/contract';
import type { Connection } from './connection.ts';
import { CliError, EXIT, START_HINT } from './exit-codes.ts';

/** Longest a plain request may take; long polls add their wait to it. */
const REQUEST_TIMEOUT_MS = 30_000;

/** A refused request: the API's error code and message (plugins/errors.ts shape). */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message, status === 404 ? EXIT.notFound : EXIT.usage);
    this.name = 'ApiError';
  }
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly body?: unknown;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  /** Added to the request timeout (a long poll's wait). */
  readonly extraTimeoutMs?: number;
  /** Not stopped by the command's abort signal: the calls a stopping worker still makes. */
  readonly unstoppable?: boolean;
}

export type ApiClient = ReturnType<typeof createApiClient>;

const pathId = (id: string) => encodeURIComponent(id);

/** The HTTP API typed by the shared contract; every failure is a CliError with its exit code. */
export function createApiClient(connection: Connection, signal: AbortSignal) {
  function urlOf(pathname: string, query: RequestOptions['query'] = {}): string {
    const url = new URL(`${connection.url}/api${pathname}`);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  async function send(pathname: string, options: RequestOptions, accept: string) {
    const headers: Record<string, string> = {
      authorization: `Bearer ${connection.token}`,
      accept,
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS + (options.extraTimeoutMs ?? 0));
    let response: Response;
    try {
      response = await fetch(urlOf(pathname, options.query), {
        method: options.method ?? 'GET',
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal:
          accept === 'text/event-stream'
            ? signal
            : options.unstoppable
              ? timeout
              : AbortSignal.any([signal, timeout]),
      });
    } catch (err) {
      if (signal.aborted && !options.unstoppable) throw signal.reason;
      throw connectionError(err);
    }
    if (!response.ok) throw await apiError(response);
    return response;
  }

  function connectionError(err: unknown): Error {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    return new CliError(`Cannot reach Taskdock at ${connection.url} (${why}): ${START_HINT}`);
  }

  async function apiError(response: Response): Promise<CliError> {
    const text = await response.text().catch(() => '');
    let body: Partial<ErrorBody> | undefined;
    try {
      body = JSON.parse(text) as Partial<ErrorBody>;
    } catch {
      body = undefined;
    }
    if (response.status === 401) {
      const message = `Taskdock at ${connection.url} refused the token (401): check TASKDOCK_TOKEN or --token`;
      return new ApiError(401, 'UNAUTHORIZED', message);
    }
    const code = body?.error?.code ?? `HTTP_${response.status}`;
    const message = body?.error?.message ?? (text.slice(0, 200) || response.statusText);
    return new ApiError(response.status, code, message);
  }

  async function request<T>(pathname: string, options: RequestOptions = {}): Promise<T> {
    const response = await send(pathname, options, 'application/json');
    try {
      const text = await response.text();
      return (text === '' ? undefined : JSON.parse(text)) as T;
    } catch (err) {
      if (signal.aborted && !options.unstoppable) throw signal.reason;
      throw connectionError(err);
    }
  }

  return {
    url: connection.url,
    request,
    /** An open SSE response (events.ts reads it). */
    openStream: (pathname: string, lastEventId: string | undefined) =>
      send(pathname, { query: { lastEventId } }, 'text/event-stream'),

    createTask: (input: CreateTask) => request<Task>('/tasks', { method: 'POST', body: input }),
    getTask: (id: string) => request<Task>(`/tasks/${pathId(id)}`),
    listTasks: (query: ListTasksQuery) => request<TaskList>('/tasks', { query }),
    cancelTask: (id: string) => request<Task>(`/tasks/${pathId(id)}/cancel`, { method: 'POST' }),
    retryTask: (id: string) => request<Task>(`/tasks/${pathId(id)}/retry`, { method: 'POST' }),
    deleteTask: (id: string) => request<void>(`/tasks/${pathId(id)}`, { method: 'DELETE' }),
    taskLogs: (id: string, limit?: number) =>
      request<TaskLogs>(`/tasks/${pathId(id)}/logs`, { query: { limit } }),
    stats: () => request<Stats>('/stats'),
    services: () => request<ServiceList>('/services'),
    workflows: () => request<WorkflowList>('/workflows'),
    listSchedules: () => request<ScheduleList>('/schedules'),
    upsertSchedule: (name: string, input: UpsertSchedule) =>
      request<Schedule>(`/schedules/${pathId(name)}`, { method: 'PUT', body: input }),
    removeSchedule: (name: string) =>
      request<void>(`/schedules/${pathId(name)}`, { method: 'DELETE' }),

    createWorkerToken: (input: CreateWorkerToken) =>
      request<CreatedWorkerToken>('/worker-tokens', { method: 'POST', body: input }),
    listWorkerTokens: () => request<WorkerTokenList>('/worker-tokens'),
    revokeWorkerToken: (id: string) =>
      request<void>(`/worker-tokens/${pathId(id)}`, { method: 'DELETE' }),

    /** The lease protocol (docs/remote-workers.md); a long poll waits `waitMs` at most. */
    lease: (input: LeaseRequest) =>
      request<LeaseList>('/leases', {
        method: 'POST',
        body: input,
        extraTimeoutMs: input.waitMs ?? 0,
      }),
    heartbeat: (leaseId: string, input: Heartbeat) =>
      request<HeartbeatAnswer>(`/leases/${pathId(leaseId)}/heartbeat`, {
        method: 'POST',
        body: input,
        unstoppable: true,
      }),
    complete: (leaseId: string, input: CompleteLease) =>
      request<Task>(`/leases/${pathId(leaseId)}/complete`, {
        method: 'POST',
        body: input,
        unstoppable: true,
      }),
    fail: (leaseId: string, input: FailLease) =>
      request<Task>(`/leases/${pathId(leaseId)}/fail`, {
        method: 'POST',
        body: input,
        unstoppable: true,
      }),
    release: (leaseId: string, input: ReleaseLease = {}) =>
      request<Task>(`/leases/${pathId(leaseId)}/release`, {
        method: 'POST',
        body: input,
        unstoppable: true,
      }),
  };
}
