import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Health, Readiness, type StoreInfo } from '@taskdock/shared/contract';
import { PUBLIC_ROUTE } from '../../plugins/security.ts';

/** What a backend built without `store` uses: the Redis engine it was given. */
const REDIS_STORE: StoreInfo = { mode: 'redis', reason: 'TASKDOCK_REDIS_URL is set' };

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
        summary:
          'Ready when the store answers and a worker is alive (memory mode: the backend runs tasks itself)',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const { engine } = app.deps;
      const store = app.deps.store ?? REDIS_STORE;
      const memory = store.mode === 'memory';
      const started = performance.now();
      try {
        await engine.ping();
        const latencyMs = Math.round((performance.now() - started) * 100) / 100;
        const workers = await engine.workers();
        const ready = memory || workers.length > 0;
        return reply
          .status(ready ? 200 : 503)
          .send({ ready, ...(memory ? {} : { redis: { ok: true, latencyMs } }), store, workers });
      } catch (err) {
        const error = (err as Error).message;
        return reply.status(503).send({
          ready: false,
          ...(memory ? {} : { redis: { ok: false, error } }),
          store,
          workers: [],
        });
      }
    },
  );
};

export default healthRoutes;
