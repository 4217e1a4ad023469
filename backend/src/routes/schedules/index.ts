import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  ErrorBody,
  ScheduleNameParams as Name,
  Schedule,
  ScheduleList,
  UpsertSchedule,
} from '../../contract/index.ts';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody };

/** Cron schedules: each is a BullMQ job scheduler on its workflow's queue. */
const scheduleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { engine } = app.deps;

  app.get('/', { schema: { response: { 200: ScheduleList, ...errors } } }, async () => ({
    items: await engine.listSchedules(),
  }));

  app.put(
    '/:name',
    { schema: { params: Name, body: UpsertSchedule, response: { 200: Schedule, ...errors } } },
    async (request) => engine.upsertSchedule(request.params.name, request.body),
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
