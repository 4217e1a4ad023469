import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  DeclareWorkflow,
  ErrorBody,
  RemoteWorkflow,
  WorkflowNameParams,
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

/** `PUT`/`DELETE /api/workflows/:name`: declarations of workflows remote workers serve. */
const remoteWorkflowRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.put(
    '/:name',
    {
      ...WORKER_TOKEN_ROUTE,
      schema: {
        summary: 'Declare (or replace) a workflow that remote workers serve',
        params: WorkflowNameParams,
        body: DeclareWorkflow,
        response: { 200: RemoteWorkflow, ...errors },
      },
    },
    async (request) =>
      leasesOf(app).declareWorkflow(callerOf(request), request.params.name, request.body),
  );

  app.delete(
    '/:name',
    {
      ...WORKER_TOKEN_ROUTE,
      schema: {
        summary: 'Remove a remote declaration: new tasks are refused, queued ones stay leasable',
        params: WorkflowNameParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await leasesOf(app).removeWorkflow(callerOf(request), request.params.name);
      return reply.status(204).send(null);
    },
  );
};

export default remoteWorkflowRoutes;
