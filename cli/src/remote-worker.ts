import { hostname } from 'node:os';
import type { Lease } from '@taskdock/shared/contract';
import { LEASE_LIMITS } from '@taskdock/shared/contract';
import { type ApiClient, ApiError } from './api-client.ts';
import { paramEnv, runTaskCommand } from './task-command.ts';

/** Long-poll wait of each lease request: short enough to notice a stop, long enough to be idle. */
const LEASE_WAIT_MS = 20_000;
/** After a failed lease request (API restarting, network): wait before asking again. */
const RETRY_DELAY_MS = 2000;

export interface RemoteWorkerOptions {
  readonly api: ApiClient;
  readonly workerId: string;
  readonly workflows: readonly string[];
  readonly concurrency: number;
  readonly command: string;
  readonly args: readonly string[];
  /** The environment of each command run (params and task ids are added). */
  readonly env: Readonly<Record<string, string>>;
  /** Aborted: lease no more, stop the commands, release their leases. */
  readonly signal: AbortSignal;
  /** What the worker does, one line each (`leased …`, `completed …`). */
  readonly report: (line: string, data: Record<string, unknown>) => void;
}

/** `host-pid`, in the characters a worker id may have. */
export const defaultWorkerId = (pid: number) =>
  `${hostname().replace(/[^A-Za-z0-9_.:@+=~-]/g, '-') || 'worker'}-${pid}`;

/**
 * A remote worker on the lease protocol: leases tasks of `workflows` up to `concurrency` at
 * once, runs the command for each, heartbeats progress and logs, and completes, fails or (on a
 * cancel or a stop) releases the lease. Resolves once stopped and every lease is handed back.
 */
export async function runRemoteWorker(options: RemoteWorkerOptions): Promise<void> {
  const { api, signal } = options;
  const running = new Set<Promise<void>>();
  let slotFreed: (() => void) | undefined;
  while (!signal.aborted) {
    if (running.size >= options.concurrency) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          slotFreed = undefined;
          resolve();
        };
        slotFreed = done;
        signal.addEventListener('abort', done, { once: true });
      });
      continue;
    }
    let leases: Lease[];
    try {
      ({ leases } = await api.lease({
        workerId: options.workerId,
        workflows: [...options.workflows],
        max: Math.min(LEASE_LIMITS.maxLeasesPerRequest, options.concurrency - running.size),
        waitMs: LEASE_WAIT_MS,
      }));
    } catch (err) {
      if (signal.aborted) break;
      // A refusal (bad token, workflows it may not lease) will not change by asking again.
      if (err instanceof ApiError && err.status < 500) throw err;
      options.report(`lease request failed: ${(err as Error).message}; retrying`, {
        error: String(err),
      });
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
      continue;
    }
    for (const lease of leases) {
      const run = serveLease(options, lease).finally(() => {
        running.delete(run);
        slotFreed?.();
      });
      running.add(run);
    }
  }
  await Promise.all(running);
}

/** Runs one leased task to its end, keeping the lease alive meanwhile. */
async function serveLease(options: RemoteWorkerOptions, lease: Lease): Promise<void> {
  const { api, report } = options;
  const { task, leaseId } = lease;
  report(`leased ${task.id}`, { event: 'leased', taskId: task.id, leaseId });
  let progress: { percent: number; step?: string } | undefined;
  let logs: string[] = [];
  let lost = false;
  let cancelled = false;
  const command = runTaskCommand({
    command: options.command,
    args: options.args,
    env: {
      ...options.env,
      ...paramEnv(task.params),
      TASKDOCK_TASK_ID: task.id,
      TASKDOCK_WORKFLOW: task.workflow,
      TASKDOCK_ATTEMPT: String(task.attempts + 1),
    },
    params: task.params,
    onProgress: (percent, step) => {
      progress =
        step === undefined
          ? { percent }
          : { percent, step: step.slice(0, LEASE_LIMITS.maxStepLength) };
    },
    onLog: (line) => {
      logs.push(line.slice(0, LEASE_LIMITS.maxLogLineLength));
      if (logs.length >= LEASE_LIMITS.maxLogLinesPerHeartbeat) void beat();
    },
  });
  const takeLogs = () => {
    const taken = logs;
    logs = [];
    return taken;
  };

  let beating: Promise<void> = Promise.resolve();
  const beat = () => {
    beating = beating.then(async () => {
      if (lost) return;
      const sent = takeLogs();
      try {
        const answer = await api.heartbeat(leaseId, {
          ...(progress === undefined ? {} : { progress }),
          ...(sent.length === 0 ? {} : { logs: sent }),
        });
        progress = undefined;
        if (answer.cancelRequested && !cancelled) {
          cancelled = true;
          report(`cancel requested for ${task.id}`, { event: 'cancel', taskId: task.id });
          command.stop();
        }
      } catch (err) {
        if (err instanceof ApiError && (err.status === 409 || err.status === 404)) {
          lost = true;
          report(`lost the lease of ${task.id} (${err.code}): stopping it`, {
            event: 'lost',
            taskId: task.id,
          });
          command.stop();
        } else {
          logs = [...sent, ...logs];
        }
      }
    });
    return beating;
  };
  const interval = Math.max(200, Math.floor(lease.heartbeatIntervalMs));
  const timer = setInterval(() => void beat(), interval);
  const onStop = () => command.stop();
  options.signal.addEventListener('abort', onStop, { once: true });

  const outcome = await command.finished;
  clearInterval(timer);
  options.signal.removeEventListener('abort', onStop);
  await beating;
  if (lost) return;
  try {
    if (cancelled || options.signal.aborted) {
      // A cancel ends it cancelled; a stop hands it back with no attempt counted.
      if (logs.length > 0) await api.heartbeat(leaseId, { logs: takeLogs() }).catch(() => {});
      await api.release(leaseId);
      report(`released ${task.id}`, { event: 'released', taskId: task.id });
    } else if (outcome.ok) {
      const done = await api.complete(leaseId, {
        ...(outcome.result === undefined ? {} : { result: outcome.result }),
        logs: takeLogs(),
      });
      report(`completed ${task.id}`, { event: 'completed', taskId: task.id, status: done.status });
    } else {
      const message = outcome.message.slice(0, LEASE_LIMITS.maxErrorMessageLength);
      const done = await api.fail(leaseId, {
        error: { message, code: outcome.code },
        logs: takeLogs(),
      });
      report(`failed ${task.id}: ${message.split('\n')[0]}`, {
        event: 'failed',
        taskId: task.id,
        status: done.status,
      });
    }
  } catch (err) {
    report(`could not report ${task.id}: ${(err as Error).message}`, {
      event: 'error',
      taskId: task.id,
    });
  }
}
