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
      const { supervision } = app.deps;
      return supervision
        ? { supervised: true, services: supervision.services() }
        : { supervised: false, services: [] };
    },
  );
};

export default serviceRoutes;
