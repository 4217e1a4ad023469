import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  CheckSchedule,
  ErrorBody,
  ScheduleNameParams as Name,
  Schedule,
  ScheduleCheck,
  ScheduleList,
  UpsertSchedule,
} from '@taskdock/shared/contract';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody };

/** Cron schedules: each is a BullMQ job scheduler on its workflow's queue while active. */
const scheduleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { engine } = app.deps;

  app.get('/', { schema: { response: { 200: ScheduleList, ...errors } } }, async () => ({
    items: await engine.listSchedules(),
  }));

  // A pattern and zone judged as PUT would judge them, with their coming runs (the form's live check).
  app.post(
    '/check',
    { schema: { body: CheckSchedule, response: { 200: ScheduleCheck, ...errors } } },
    async (request) => engine.checkSchedule(request.body),
  );

  app.put(
    '/:name',
    { schema: { params: Name, body: UpsertSchedule, response: { 200: Schedule, ...errors } } },
    async (request) => engine.upsertSchedule(request.params.name, request.body),
  );

  app.post(
    '/:name/pause',
    { schema: { params: Name, response: { 200: Schedule, ...errors } } },
    async (request) => engine.pauseSchedule(request.params.name),
  );

  app.post(
    '/:name/resume',
    { schema: { params: Name, response: { 200: Schedule, ...errors } } },
    async (request) => engine.resumeSchedule(request.params.name),
  );

  app.delete(
    '/:name',
    { schema: { params: Name, response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await engine.removeSchedule(request.params.name);
      return reply.status(204).send(null);
    },
  );
};

export default scheduleRoutes;
