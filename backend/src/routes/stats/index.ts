import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Stats } from '@taskdock/shared/contract';

const statsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      schema: {
        summary: 'Totals since install, counts by status, throughput, workers',
        response: { 200: Stats },
      },
    },
    async () => app.deps.engine.stats(),
  );
};

export default statsRoutes;
