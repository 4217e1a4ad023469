import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  BulkCreateResult,
  BulkCreateTasks,
  CreateTask,
  ErrorBody,
  ListTasksQuery,
  Task,
  TaskIdParams,
  TaskList,
  TaskLogs,
} from '@taskdock/shared/contract';
import { taskNotFound } from '../../engine/errors.ts';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody };

const taskRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { engine } = app.deps;

  app.post(
    '/',
    {
      schema: {
        summary: 'Create a task (200 with the earlier task on a repeated idempotency key)',
        body: CreateTask,
        response: { 201: Task, 200: Task, ...errors },
      },
    },
    async (request, reply) => {
      const { task, created } = await engine.create(request.body);
      return reply.status(created ? 201 : 200).send(task);
    },
  );

  app.post(
    '/bulk',
    {
      schema: {
        summary: 'Create many tasks; one invalid item rejects the whole batch',
        body: BulkCreateTasks,
        response: { 201: BulkCreateResult, ...errors },
      },
    },
    async (request, reply) => {
      const items = await engine.createMany(request.body.tasks);
      return reply.status(201).send({ items });
    },
  );

  app.get(
    '/',
    {
      schema: {
        summary: 'List tasks, newest first',
        querystring: ListTasksQuery,
        response: { 200: TaskList, ...errors },
      },
    },
    async (request) => engine.list(request.query),
  );

  app.get(
    '/:id',
    { schema: { params: TaskIdParams, response: { 200: Task, ...errors } } },
    async (request) => {
      const task = await engine.get(request.params.id);
      if (!task) throw taskNotFound(request.params.id);
      return task;
    },
  );

  app.post(
    '/:id/cancel',
    {
      schema: {
        summary: 'Cancel a queued, scheduled or running task (409 when already finished)',
        params: TaskIdParams,
        response: { 200: Task, ...errors },
      },
    },
    async (request) => engine.cancel(request.params.id),
  );

  app.post(
    '/:id/retry',
    {
      schema: {
        summary: 'Re-queue a failed or cancelled task',
        params: TaskIdParams,
        response: { 200: Task, ...errors },
      },
    },
    async (request) => engine.retry(request.params.id),
  );

  app.delete(
    '/:id',
    { schema: { params: TaskIdParams, response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await engine.remove(request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/:id/logs',
    {
      schema: {
        params: TaskIdParams,
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 1000 })) },
          { additionalProperties: false },
        ),
        response: { 200: TaskLogs, ...errors },
      },
    },
    async (request) => ({ lines: await engine.logs(request.params.id, request.query.limit) }),
  );
};

export default taskRoutes;
