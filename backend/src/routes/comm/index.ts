import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CommFetchAnswer,
  CommFetchQuery,
  CommUpdate,
  CommUpdateAnswer,
  ErrorBody,
} from '@taskdock/shared/contract';
import { WORKER_TOKEN_ROUTE } from '../../plugins/security.ts';
import { callerOf, leasesOf } from '../remote-caller.ts';

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  501: ErrorBody,
};

/** The fetch/update style of existing consumers, on top of leases (300 s per fetch). */
const commRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/task/fetch',
    {
      ...WORKER_TOKEN_ROUTE,
      schema: {
        summary: 'Fetch one task of the named workflows (leased for 300 s), or { task: null }',
        querystring: CommFetchQuery,
        response: { 200: CommFetchAnswer, ...errors },
      },
    },
    async (request) => {
      const names = request.query.workflowNames.split(',').filter(Boolean);
      return { task: await leasesOf(app).commFetch(callerOf(request), names) };
    },
  );

  app.post(
    '/task/update',
    {
      ...WORKER_TOKEN_ROUTE,
      schema: {
        summary:
          'PROCESSING renews the lease; COMPLETED stores outputData; FAILED fails the attempt',
        body: CommUpdate,
        response: { 200: CommUpdateAnswer, ...errors },
      },
    },
    async (request) => ({
      ok: true as const,
      task: await leasesOf(app).commUpdate(callerOf(request), request.body),
    }),
  );
};

export default commRoutes;
