import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Redis } from 'ioredis';
import type { TaskEngine } from './engine/task-engine.ts';
import { type HttpLimits, resolveHttpLimits } from './http-limits.ts';
import type { Metrics } from './metrics.ts';
import { registerErrorHandling } from './plugins/errors.ts';
import { registerQueryNumbers } from './plugins/query-numbers.ts';
import { httpServerOptions, registerRequestLimits } from './plugins/request-limits.ts';
import { registerSecurity } from './plugins/security.ts';
import { createSessionManager, registerSessions, type SessionManager } from './plugins/session.ts';
import { registerStaticUi } from './plugins/static-ui.ts';
import eventRoutes from './routes/events/index.ts';
import healthRoutes from './routes/health/index.ts';
import logRoutes from './routes/logs/index.ts';
import scheduleRoutes from './routes/schedules/index.ts';
import serviceRoutes from './routes/services/index.ts';
import statsRoutes from './routes/stats/index.ts';
import taskRoutes from './routes/tasks/index.ts';
import workflowRoutes from './routes/workflows/index.ts';
import type { SupervisionSource } from './supervision/ipc-supervision.ts';

export const BODY_LIMIT_BYTES = 1024 * 1024;

export interface AppDeps {
  readonly token: string;
  /** What every task route calls; routes never reach Redis or BullMQ themselves. */
  readonly engine: TaskEngine;
  /** Redis for the browser sessions (see `sessions`). */
  readonly redis: Redis;
  readonly metrics: Metrics;
  /** A pino logger; omitted, the app logs nothing (tests). */
  readonly logger?: FastifyBaseLogger;
  /** The supervisor's services and logs; omitted, /api/services and /api/logs say "not supervised". */
  readonly supervision?: SupervisionSource;
  /** Browser sign-in; omitted, one is made on `redis` (the usual case). */
  readonly sessions?: SessionManager;
  /** The Next.js static export to serve at `/`; omitted, only the API runs. */
  readonly uiDir?: string;
  /** Overrides of the HTTP edge's limits (`DEFAULT_HTTP_LIMITS`); tests use small ones. */
  readonly httpLimits?: Partial<HttpLimits>;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
    /** The limits in force: URL, header and body sizes, timeouts, SSE back-pressure. */
    httpLimits: HttpLimits;
  }
}

/** Builds the API (never listens: `server.ts` does, tests use `inject` or their own listen). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const limits = resolveHttpLimits(deps.httpLimits);
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: BODY_LIMIT_BYTES,
    ...httpServerOptions(limits),
    // One line per request would drown the service log under load; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // No coercion: a wrong type is a 400, never silently changed (query numbers: query-numbers.ts).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('deps', deps);
  app.decorate('httpLimits', limits);
  registerRequestLimits(app, limits);

  registerErrorHandling(app);
  registerQueryNumbers(app);
  const sessions = deps.sessions ?? createSessionManager({ redis: deps.redis, token: deps.token });
  // Cookies are parsed before the security hook runs, so it can accept a session.
  await registerSessions(app, sessions);
  registerSecurity(app, { token: deps.token, sessions });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Taskdock API', version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(healthRoutes, { prefix: '/api/health' });
  await app.register(workflowRoutes, { prefix: '/api/workflows' });
  await app.register(taskRoutes, { prefix: '/api/tasks' });
  await app.register(serviceRoutes, { prefix: '/api/services' });
  await app.register(logRoutes, { prefix: '/api/logs' });
  await app.register(scheduleRoutes, { prefix: '/api/schedules' });
  await app.register(statsRoutes, { prefix: '/api/stats' });
  await app.register(eventRoutes, { prefix: '/api' });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
  );
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (deps.uiDir) await registerStaticUi(app, deps.uiDir);
  return app;
}
