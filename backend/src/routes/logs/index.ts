import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ErrorBody,
  SERVICE_LOG_MAX_LIMIT,
  type ServiceLogLine,
  ServiceLogList,
  ServiceLogQuery,
  ServiceLogStreamQuery,
  serviceLogMatches,
} from '../../contract/index.ts';
import { SupervisorUnavailableError } from '../../supervision/ipc-supervision.ts';
import { TaskdockError } from '../../tasks/errors.ts';

const HEARTBEAT_MS = 15_000;
/** A client that cannot keep up is dropped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

const unavailable = (err: unknown) =>
  err instanceof SupervisorUnavailableError
    ? new TaskdockError(503, 'SUPERVISOR_UNAVAILABLE', err.message)
    : err;

const logRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const streams = new Set<ServerResponse>();
  // SSE responses never end by themselves: end them so `app.close()` does not wait for them.
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end();
  });

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

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(`retry: 2000\n: ${supervision ? 'supervised' : 'not supervised'}\n\n`);
      streams.add(res);

      // A client that went away is not written to (a write after close would be an error).
      const open = () => !res.destroyed && !res.writableEnded;
      let lastSent = resumeAfter ?? -1;
      const write = (lines: readonly ServiceLogLine[]) => {
        if (!open()) return;
        let chunk = '';
        for (const line of lines) {
          if (line.seq <= lastSent || !serviceLogMatches(line, filters)) continue;
          lastSent = line.seq;
          chunk += `id: ${line.seq}\nevent: log\ndata: ${JSON.stringify(line)}\n\n`;
        }
        if (chunk === '') return;
        if (res.writableLength > MAX_BUFFERED_BYTES) {
          res.end();
          return;
        }
        res.write(chunk);
      };

      // Follow first and hold live lines back until the backlog is out: no gap, no duplicate.
      let held: ServiceLogLine[] | null = [];
      const unfollow = supervision?.follow((lines) => {
        if (held) held.push(...lines);
        else write(lines);
      });
      const heartbeat = setInterval(() => {
        if (open()) res.write(': ping\n\n');
      }, HEARTBEAT_MS);
      res.on('close', () => {
        clearInterval(heartbeat);
        unfollow?.();
        streams.delete(res);
      });

      if (supervision) {
        const backlog = await supervision
          .logs(
            resumeAfter === undefined
              ? filters
              : { ...filters, after: resumeAfter, limit: SERVICE_LOG_MAX_LIMIT },
          )
          .catch((err: Error) => {
            if (open())
              res.write(`event: warning\ndata: ${JSON.stringify({ message: err.message })}\n\n`);
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
