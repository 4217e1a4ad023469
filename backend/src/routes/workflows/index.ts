import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WorkflowList } from '@taskdock/shared/contract';

const workflowRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      schema: {
        summary: 'Registered workflows and their params schema',
        response: { 200: WorkflowList },
      },
    },
    async () => ({ items: await app.deps.engine.workflows() }),
  );
};

export default workflowRoutes;
