import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  CreatedWorkerToken,
  CreateWorkerToken,
  ErrorBody,
  WorkerTokenIdParams,
  WorkerTokenList,
} from '@taskdock/shared/contract';
import { leasesOf } from '../remote-caller.ts';

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  501: ErrorBody,
};

/** Worker tokens (main token or session only: a worker token is refused by the guard). */
const workerTokenRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/',
    {
      schema: {
        summary: 'Create a worker token; the answer is the only place it is shown',
        body: CreateWorkerToken,
        response: { 201: CreatedWorkerToken, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await leasesOf(app).createToken(request.body)),
  );

  app.get(
    '/',
    {
      schema: {
        summary: 'Worker tokens (never the tokens themselves)',
        response: { 200: WorkerTokenList, ...errors },
      },
    },
    async () => ({ items: await leasesOf(app).listTokens() }),
  );

  app.delete(
    '/:id',
    {
      schema: {
        summary: 'Revoke a worker token at once',
        params: WorkerTokenIdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await leasesOf(app).revokeToken(request.params.id);
      return reply.status(204).send(null);
    },
  );
};

export default workerTokenRoutes;
