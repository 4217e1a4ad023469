// The remote-workers section of the bench: one remote worker speaking the HTTP lease protocol
// (docs/remote-workers.md) to the bench's backend.
import type { LeaseList } from '@taskdock/shared/contract';
import type { Api } from './measures.ts';
import { percentile, round } from './processes.ts';

const WORKFLOW = 'bench-remote';

export interface RemoteWorkerResults {
  /** Tasks leased and completed per second by one worker leasing `max: 10`. */
  readonly remoteRoundTripsPerSec: number;
  /** From POST /api/tasks to the answer of a waiting long-poll. */
  readonly remoteLongPollP50Ms: number;
  readonly remoteLongPollP99Ms: number;
}

async function call<T>(api: Api, method: string, pathname: string, body?: unknown): Promise<T> {
  const res = await fetch(`${api.base}${pathname}`, {
    method,
    headers: api.headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status >= 300)
    throw new Error(`${method} ${pathname}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const lease = (api: Api, max: number, waitMs: number) =>
  call<LeaseList>(api, 'POST', '/api/leases', {
    workerId: 'bench-remote-1',
    workflows: [WORKFLOW],
    max,
    waitMs,
  });

export async function measureRemoteWorkers(
  api: Api,
  plan: { readonly remoteTasks: number; readonly e2e: number },
): Promise<RemoteWorkerResults> {
  await call(api, 'PUT', `/api/workflows/${WORKFLOW}`, {
    description: 'bench: leased and completed at once',
    paramsSchema: { type: 'object' },
    remote: true,
  });
  for (let i = 0; i < plan.remoteTasks; i += 1000) {
    const tasks = Array.from({ length: Math.min(1000, plan.remoteTasks - i) }, () => ({
      workflow: WORKFLOW,
      params: {},
    }));
    await call(api, 'POST', '/api/tasks/bulk', { tasks });
  }
  // One worker: lease up to 10, complete them (in parallel, as a worker with 10 slots would).
  const started = performance.now();
  let done = 0;
  while (done < plan.remoteTasks) {
    const { leases } = await lease(api, 10, 0);
    if (leases.length === 0) throw new Error(`only ${done} of ${plan.remoteTasks} leased`);
    await Promise.all(
      leases.map((l) => call(api, 'POST', `/api/leases/${l.leaseId}/complete`, { result: null })),
    );
    done += leases.length;
  }
  const remoteRoundTripsPerSec = Math.round(done / ((performance.now() - started) / 1000));

  const latencies: number[] = [];
  for (let i = 0; i < plan.e2e; i++) {
    const waiting = lease(api, 1, 5000);
    // Let the long-poll reach the backend and wait.
    await new Promise((r) => setTimeout(r, 20));
    const created = performance.now();
    await call(api, 'POST', '/api/tasks', { workflow: WORKFLOW, params: {} });
    const { leases } = await waiting;
    latencies.push(performance.now() - created);
    const [got] = leases;
    if (!got) throw new Error('the long-poll answered without the task');
    await call(api, 'POST', `/api/leases/${got.leaseId}/complete`, {});
  }
  latencies.sort((a, b) => a - b);
  return {
    remoteRoundTripsPerSec,
    remoteLongPollP50Ms: round(percentile(latencies, 50)),
    remoteLongPollP99Ms: round(percentile(latencies, 99)),
  };
}
