import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WorkflowList } from '../../contract/index.ts';
import { listWorkers } from '../../tasks/worker-registry.ts';

const workflowRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      schema: {
        summary: 'Registered workflows and their params schema',
        response: { 200: WorkflowList },
      },
    },
    async () => {
      const workers = await listWorkers(app.deps.redis);
      return {
        items: app.deps.registry.list().map((w) => ({
          name: w.name,
          description: w.description,
          paramsSchema: w.paramsSchema,
          workers: workers.filter((worker) => worker.workflows.includes(w.name)).length,
        })),
      };
    },
  );
};

export default workflowRoutes;
