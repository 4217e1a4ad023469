import assert from 'node:assert/strict';
import type { Lease, LeaseList, Task } from '@taskdock/shared/contract';
import type { TestStack } from '../helpers/stack.ts';

/** A remote workflow whose params are `{ n: integer }`. */
export const RENDER_SCHEMA = {
  type: 'object',
  properties: { n: { type: 'integer' } },
  required: ['n'],
  additionalProperties: false,
};

export async function declare(stack: TestStack, name: string, token?: string): Promise<void> {
  const res = await stack.request({
    method: 'PUT',
    url: `/api/workflows/${name}`,
    payload: {
      description: `${name} on remote machines`,
      paramsSchema: RENDER_SCHEMA,
      remote: true,
    },
    ...(token ? { token } : {}),
  });
  assert.equal(res.statusCode, 200, res.body);
}

export async function createTask(stack: TestStack, payload: object): Promise<Task> {
  const res = await stack.request({ method: 'POST', url: '/api/tasks', payload });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<Task>();
}

export async function workerToken(stack: TestStack, name: string, workflows?: string[]) {
  const res = await stack.request({
    method: 'POST',
    url: '/api/worker-tokens',
    payload: workflows ? { name, workflows } : { name },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ id: string; token: string }>();
}

/** POST /api/leases; asserts a 200 and returns the leases. */
export async function lease(
  stack: TestStack,
  body: { workerId: string; workflows: string[]; max?: number; waitMs?: number },
  token?: string,
): Promise<Lease[]> {
  const res = await stack.request({
    method: 'POST',
    url: '/api/leases',
    payload: body,
    ...(token ? { token } : {}),
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json<LeaseList>().leases;
}

export function leaseCall(
  stack: TestStack,
  leaseId: string,
  action: 'heartbeat' | 'complete' | 'fail' | 'release',
  payload: object = {},
  token?: string,
) {
  return stack.request({
    method: 'POST',
    url: `/api/leases/${leaseId}/${action}`,
    payload,
    ...(token ? { token } : {}),
  });
}

/** Polls `probe` until it gives a value; fails after `timeoutMs`. */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
