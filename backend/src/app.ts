import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RedisServerInfo, StoreInfo } from '@taskdock/shared/contract';
import type { RedisConnection } from '@taskdock/shared/node/redis-connection';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { TaskEngine } from './engine/task-engine.ts';
import { type HttpLimits, resolveHttpLimits } from './http-limits.ts';
import type { Metrics } from './metrics.ts';
import { registerErrorHandling } from './plugins/errors.ts';
import { registerQueryNumbers } from './plugins/query-numbers.ts';
import { httpServerOptions, registerRequestLimits } from './plugins/request-limits.ts';
import { registerSecurity } from './plugins/security.ts';
import { createSessionManager, registerSessions, type SessionManager } from './plugins/session.ts';
import { createRedisSessionStore } from './plugins/session-store.ts';
import { registerStaticUi } from './plugins/static-ui.ts';
import type { LeaseEngine } from './remote/lease-engine.ts';
import type { RemoteServingControl } from './remote/remote-serving.ts';
import commRoutes from './routes/comm/index.ts';
import eventRoutes from './routes/events/index.ts';
import healthRoutes from './routes/health/index.ts';
import leaseRoutes from './routes/leases/index.ts';
import logRoutes from './routes/logs/index.ts';
import queueRoutes from './routes/queues/index.ts';
import remoteServingRoutes from './routes/remote-serving/index.ts';
import scheduleRoutes from './routes/schedules/index.ts';
import serviceRoutes from './routes/services/index.ts';
import statsRoutes from './routes/stats/index.ts';
import taskActionRoutes from './routes/tasks/bulk-actions.ts';
import taskRoutes from './routes/tasks/index.ts';
import workerTokenRoutes from './routes/worker-tokens/index.ts';
import workflowRoutes from './routes/workflows/index.ts';
import remoteWorkflowRoutes from './routes/workflows/remote.ts';
import type { SupervisionSource } from './supervision/ipc-supervision.ts';

export const BODY_LIMIT_BYTES = 1024 * 1024;

export interface AppDeps {
  readonly token: string;
  /** What every task route calls; routes never reach Redis or BullMQ themselves. */
  readonly engine: TaskEngine;
  /** Redis for the browser sessions when `sessions` is omitted; memory mode has none. */
  readonly redis?: RedisConnection;
  /** Where tasks live and why (readiness, metrics); omitted: RedisConnection. */
  readonly store?: StoreInfo;
  /** The start probe's view of Redis (redis-probe.ts), shown with /api/services. */
  readonly redisServer?: RedisServerInfo;
  readonly metrics: Metrics;
  /** A pino logger; omitted, the app logs nothing (tests). */
  readonly logger?: FastifyBaseLogger;
  /** The supervisor's services and logs; omitted, /api/services and /api/logs say "not supervised". */
  readonly supervision?: SupervisionSource;
  /** Browser sign-in; omitted, one is made on `redis`. */
  readonly sessions?: SessionManager;
  /** The Next.js static export to serve at `/`; omitted, only the API runs. */
  readonly uiDir?: string;
  /** Overrides of the HTTP edge's limits (`DEFAULT_HTTP_LIMITS`); tests use small ones. */
  readonly httpLimits?: Partial<HttpLimits>;
  /** Remote workers (worker tokens, declarations, leases); omitted, those routes answer 501. */
  readonly leases?: LeaseEngine;
  /** The remote workers setting (GET/PUT /api/remote-serving); omitted, those answer 501. */
  readonly remoteServing?: RemoteServingControl;
  /** Host names answered beside loopback (serving beyond loopback, serving.ts). */
  readonly allowedHosts?: readonly string[];
  /** Serve https with this PEM certificate and key (TASKDOCK_TLS_CERT / TASKDOCK_TLS_KEY). */
  readonly https?: { readonly cert: Buffer; readonly key: Buffer };
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
    ...(deps.https ? { https: { cert: deps.https.cert, key: deps.https.key } } : {}),
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
  const sessions = deps.sessions ?? redisSessions(deps);
  // Cookies are parsed before the security hook runs, so it can accept a session.
  await registerSessions(app, sessions);
  registerSecurity(app, {
    token: deps.token,
    sessions,
    ...(deps.leases ? { workerTokens: deps.leases } : {}),
    ...(deps.allowedHosts ? { allowedHosts: deps.allowedHosts } : {}),
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Taskdock API', version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(healthRoutes, { prefix: '/api/health' });
  await app.register(workflowRoutes, { prefix: '/api/workflows' });
  await app.register(remoteWorkflowRoutes, { prefix: '/api/workflows' });
  await app.register(workerTokenRoutes, { prefix: '/api/worker-tokens' });
  await app.register(leaseRoutes, { prefix: '/api/leases' });
  await app.register(commRoutes, { prefix: '/api/comm' });
  await app.register(remoteServingRoutes, { prefix: '/api/remote-serving' });
  await app.register(taskRoutes, { prefix: '/api/tasks' });
  await app.register(taskActionRoutes, { prefix: '/api/tasks' });
  await app.register(queueRoutes, { prefix: '/api/queues' });
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

function redisSessions(deps: AppDeps): SessionManager {
  if (!deps.redis) throw new Error('buildApp needs `sessions` or `redis` for browser sign-in');
  return createSessionManager({ store: createRedisSessionStore(deps.redis), token: deps.token });
}
