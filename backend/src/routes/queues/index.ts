import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ErrorBody,
  QueueList,
  QueueParams,
  QueueState,
  RemoveFinished,
  RemoveFinishedResult,
  SetGlobalConcurrency,
} from '@taskdock/shared/contract';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody };

/** Each workflow's queue: pause/resume, global concurrency, removing finished tasks. */
const queueRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { engine } = app.deps;

  app.get('/', { schema: { response: { 200: QueueList, ...errors } } }, async () => ({
    items: await engine.queues(),
  }));

  app.post(
    '/:workflow/pause',
    {
      schema: {
        summary: 'Pause a queue: none of its tasks starts until it is resumed',
        params: QueueParams,
        response: { 200: QueueState, ...errors },
      },
    },
    async (request) => engine.updateQueue(request.params.workflow, { paused: true }),
  );

  app.post(
    '/:workflow/resume',
    { schema: { params: QueueParams, response: { 200: QueueState, ...errors } } },
    async (request) => engine.updateQueue(request.params.workflow, { paused: false }),
  );

  app.post(
    '/:workflow/concurrency',
    {
      schema: {
        summary: 'Set (or, with null, remove) how many of its tasks run at once on all workers',
        params: QueueParams,
        body: SetGlobalConcurrency,
        response: { 200: QueueState, ...errors },
      },
    },
    async (request) =>
      engine.updateQueue(request.params.workflow, { globalConcurrency: request.body.limit }),
  );

  app.post(
    '/:workflow/remove-finished',
    {
      schema: {
        summary: 'Delete tasks that finished before a time (dryRun: count them)',
        params: QueueParams,
        body: RemoveFinished,
        response: { 200: RemoveFinishedResult, ...errors },
      },
    },
    async (request) => engine.removeFinished(request.params.workflow, request.body),
  );
};

export default queueRoutes;
