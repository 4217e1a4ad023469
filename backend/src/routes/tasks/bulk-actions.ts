import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BulkActionParams,
  BulkActionRequest,
  BulkActionResult,
  EditAndRetry,
  ErrorBody,
  Task,
  TaskIdParams,
} from '@taskdock/shared/contract';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody };

/** Acting on many tasks at once (by the list's filters) and retrying one with new params. */
const taskActionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { engine } = app.deps;

  app.post(
    '/bulk/:action',
    {
      schema: {
        summary:
          'Cancel, retry or delete every task the filters of GET /api/tasks match (dryRun: count), in bounded calls',
        params: BulkActionParams,
        body: BulkActionRequest,
        response: { 200: BulkActionResult, ...errors },
      },
    },
    async (request) => engine.bulk(request.params.action, request.body),
  );

  app.post(
    '/:id/edit-retry',
    {
      schema: {
        summary: 'Retry a failed or cancelled task with new params (checked like a create)',
        params: TaskIdParams,
        body: EditAndRetry,
        response: { 200: Task, ...errors },
      },
    },
    async (request) => engine.retryWithParams(request.params.id, request.body.params),
  );
};

export default taskActionRoutes;
