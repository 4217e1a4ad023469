import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ErrorBody,
  SERVICE_LOG_MAX_LIMIT,
  type ServiceLogLine,
  ServiceLogList,
  ServiceLogQuery,
  ServiceLogStreamQuery,
  serviceLogMatches,
} from '@taskdock/shared/contract';
import { HttpError } from '../../plugins/http-error.ts';
import {
  type SupervisionSource,
  SupervisorUnavailableError,
} from '../../supervision/ipc-supervision.ts';
import { eventStreams, sseFrame } from '../sse.ts';

const unavailable = (err: unknown) =>
  err instanceof SupervisorUnavailableError
    ? new HttpError(503, 'SUPERVISOR_UNAVAILABLE', err.message)
    : err;

const logRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const openEventStream = eventStreams(app);

  app.get(
    '/',
    {
      schema: {
        summary: 'Recent log lines of the supervised services, oldest first',
        querystring: ServiceLogQuery,
        response: { 200: ServiceLogList, 400: ErrorBody, 401: ErrorBody, 503: ErrorBody },
      },
    },
    async (request) => {
      const { supervision } = app.deps;
      if (!supervision) return { supervised: false, lines: [] };
      try {
        return { supervised: true, lines: await supervision.logs(request.query) };
      } catch (err) {
        throw unavailable(err);
      }
    },
  );

  app.get(
    '/stream',
    {
      schema: {
        summary: 'Server-sent events: one `log` event per line (id = seq; resumable)',
        querystring: ServiceLogStreamQuery,
        response: { 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (request, reply) => {
      const { supervision } = app.deps;
      const filters = request.query;
      const lastEventId = Number(request.headers['last-event-id']);
      const resumeAfter =
        Number.isSafeInteger(lastEventId) && lastEventId >= 0 ? lastEventId : undefined;

      const stream = openEventStream(reply, `: ${supervision ? 'supervised' : 'not supervised'}\n`);
      let lastSent = resumeAfter ?? -1;
      const write = (lines: readonly ServiceLogLine[]) => {
        let chunk = '';
        for (const line of lines) {
          if (line.seq <= lastSent || !serviceLogMatches(line, filters)) continue;
          lastSent = line.seq;
          chunk += sseFrame(line.seq, 'log', JSON.stringify(line));
        }
        stream.write(chunk);
      };

      // Follow first and hold live lines back until the backlog is out: no gap, no duplicate.
      let held: ServiceLogLine[] | null = [];
      const unfollow = supervision?.follow((lines) => {
        if (held) held.push(...lines);
        else write(lines);
      });
      stream.onClose(() => unfollow?.());

      const readBacklog = async (source: SupervisionSource): Promise<ServiceLogLine[]> => {
        if (resumeAfter === undefined) return source.logs(filters);
        const [newest] = await source.logs({ limit: 1 });
        if (newest === undefined || resumeAfter > newest.seq) {
          // Past the end (the supervisor restarted and numbers lines from 1 again): live from
          // now, as /api/events does, instead of holding back every line until the old number.
          lastSent = -1;
          stream.write(': Last-Event-ID is past the end of the log; live lines from now\n\n');
          return [];
        }
        return source.logs({ ...filters, after: resumeAfter, limit: SERVICE_LOG_MAX_LIMIT });
      };

      if (supervision) {
        const backlog = await readBacklog(supervision).catch((err: Error) => {
          stream.write(`event: warning\ndata: ${JSON.stringify({ message: err.message })}\n\n`);
          return [];
        });
        write(backlog);
      }
      const live = held;
      held = null;
      write(live);
    },
  );
};

export default logRoutes;
