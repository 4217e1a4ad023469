import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Health, Readiness } from '../../contract/index.ts';
import { PUBLIC_ROUTE } from '../../plugins/security.ts';

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    { ...PUBLIC_ROUTE, schema: { summary: 'Liveness', security: [], response: { 200: Health } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      schema: {
        summary: 'Ready when Redis answers and at least one worker is alive',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const { engine } = app.deps;
      const started = performance.now();
      try {
        await engine.ping();
        const latencyMs = Math.round((performance.now() - started) * 100) / 100;
        const workers = await engine.workers();
        const ready = workers.length > 0;
        return reply
          .status(ready ? 200 : 503)
          .send({ ready, redis: { ok: true, latencyMs }, workers });
      } catch (err) {
        return reply
          .status(503)
          .send({ ready: false, redis: { ok: false, error: (err as Error).message }, workers: [] });
      }
    },
  );
};

export default healthRoutes;
