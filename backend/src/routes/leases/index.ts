import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CompleteLease,
  ErrorBody,
  FailLease,
  Heartbeat,
  HeartbeatAnswer,
  LeaseIdParams,
  LeaseList,
  LeaseRequest,
  ReleaseLease,
  Task,
} from '@taskdock/shared/contract';
import { WORKER_TOKEN_ROUTE } from '../../plugins/security.ts';
import { callerOf, clientGone, leasesOf } from '../remote-caller.ts';

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  501: ErrorBody,
};

/** The lease protocol remote workers speak (docs/remote-workers.md). */
const leaseRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/',
    {
      ...WORKER_TOKEN_ROUTE,
      schema: {
        summary: 'Lease up to `max` tasks of remote workflows, long-polling up to `waitMs`',
        body: LeaseRequest,
        response: { 200: LeaseList, ...errors },
      },
    },
    async (request, reply) => ({
      leases: await leasesOf(app).lease(callerOf(request), request.body, clientGone(reply)),
    }),
  );

  app.post(
    '/:leaseId/heartbeat',
    {
      ...WORKER_TOKEN_ROUTE,
      schema: {
        summary: 'Renew a lease; report progress and log lines; learn of a cancel',
        params: LeaseIdParams,
        body: Heartbeat,
        response: { 200: HeartbeatAnswer, ...errors },
      },
    },
    async (request) =>
      leasesOf(app).heartbeat(callerOf(request), request.params.leaseId, request.body),
  );

  app.post(
    '/:leaseId/complete',
    {
      ...WORKER_TOKEN_ROUTE,
      schema: {
        summary: 'Complete the leased task with its result',
        params: LeaseIdParams,
        body: CompleteLease,
        response: { 200: Task, ...errors },
      },
    },
    async (request) =>
      leasesOf(app).complete(callerOf(request), request.params.leaseId, request.body),
  );

  app.post(
    '/:leaseId/fail',
    {
      ...WORKER_TOKEN_ROUTE,
      schema: {
        summary: 'Fail the attempt: re-queued with backoff while attempts remain (retryable)',
        params: LeaseIdParams,
        body: FailLease,
        response: { 200: Task, ...errors },
      },
    },
    async (request) => leasesOf(app).fail(callerOf(request), request.params.leaseId, request.body),
  );

  app.post(
    '/:leaseId/release',
    {
      ...WORKER_TOKEN_ROUTE,
      schema: {
        summary: 'Hand the task back to the queue; no attempt counted',
        params: LeaseIdParams,
        body: ReleaseLease,
        response: { 200: Task, ...errors },
      },
    },
    async (request) =>
      leasesOf(app).release(callerOf(request), request.params.leaseId, request.body ?? {}),
  );
};

export default leaseRoutes;
