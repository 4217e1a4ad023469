import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, ServiceList } from '@taskdock/shared/contract';

const serviceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      schema: {
        summary: 'The services under the supervisor: status, pid, restarts, last exit',
        response: { 200: ServiceList, 401: ErrorBody },
      },
    },
    async () => {
      const { supervision, redisServer } = app.deps;
      const redis = redisServer ? { redis: redisServer } : {};
      return supervision
        ? { supervised: true, services: supervision.services(), ...redis }
        : { supervised: false, services: [], ...redis };
    },
  );
};

export default serviceRoutes;
