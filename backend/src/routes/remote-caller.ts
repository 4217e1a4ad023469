import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UnsupportedError } from '../engine/errors.ts';
import type { LeaseCaller, LeaseEngine } from '../remote/lease-engine.ts';

/** The lease engine, or a clear error on an engine without remote workers (memory mode). */
export function leasesOf(app: FastifyInstance): LeaseEngine {
  const { leases } = app.deps;
  if (!leases) {
    throw new UnsupportedError(
      'Remote workers need the Redis store; this Taskdock runs without it',
    );
  }
  return leases;
}

/** Who calls, as the lease engine checks it: the worker token (if any) and the address. */
export const callerOf = (request: FastifyRequest): LeaseCaller =>
  request.workerToken
    ? { token: request.workerToken, address: request.ip }
    : { address: request.ip };

/**
 * An AbortSignal that fires when the client goes away before its answer (a long-poll stops
 * waiting). The response's `close`, not the request's: that one fires once the body is read.
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}
