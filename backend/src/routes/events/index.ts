import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TaskIdParams } from '../../contract/index.ts';
import { TaskdockError } from '../../tasks/errors.ts';
import { isStreamId, type StreamEvent } from '../../tasks/event-hub.ts';

const HEARTBEAT_MS = 15_000;
/** A client that lets this much pile up unread is dropped; it reconnects with Last-Event-ID. */
const MAX_UNSENT_BYTES = 1024 * 1024;
const MAX_PENDING_DURING_REPLAY = 10_000;

const Resume = Type.Object(
  { lastEventId: Type.Optional(Type.String({ description: 'same as the Last-Event-ID header' })) },
  { additionalProperties: false },
);

function compareIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map(BigInt);
  const [bm = 0n, bs = 0n] = b.split('-').map(BigInt);
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}

const format = (event: StreamEvent) =>
  `id: ${event.id}\nevent: ${event.type}\ndata: ${event.data}\n\n`;

/** Task events as Server-Sent Events, resumable with Last-Event-ID. */
const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { events } = app.deps;

  async function stream(request: FastifyRequest, reply: FastifyReply, taskId?: string) {
    const header = request.headers['last-event-id'];
    const resumeFrom =
      (typeof header === 'string' && header) ||
      (request.query as { lastEventId?: string }).lastEventId ||
      undefined;
    if (resumeFrom !== undefined && !isStreamId(resumeFrom)) {
      throw new TaskdockError(
        400,
        'INVALID_EVENT_ID',
        `"${resumeFrom}" is not an event id this API sent`,
      );
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');

    let closed = false;
    let lastSent = resumeFrom;
    let replaying = resumeFrom !== undefined;
    const pending: StreamEvent[] = [];
    const close = () => {
      if (closed) return;
      closed = true;
      unsubscribe();
      clearInterval(heartbeat);
      res.end();
    };
    const send = (event: StreamEvent) => {
      if (closed || (taskId !== undefined && event.taskId !== taskId)) return;
      if (lastSent !== undefined && compareIds(event.id, lastSent) <= 0) return;
      res.write(format(event));
      lastSent = event.id;
      if (res.writableLength > MAX_UNSENT_BYTES) close();
    };
    const unsubscribe = events.subscribe((event) => {
      if (!replaying) return send(event);
      pending.push(event);
      if (pending.length > MAX_PENDING_DURING_REPLAY) close();
    });
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    request.raw.on('close', close);

    if (resumeFrom !== undefined) {
      for await (const event of events.replay(resumeFrom)) {
        if (closed) break;
        send(event);
      }
      replaying = false;
      for (const event of pending.splice(0)) send(event);
    }
  }

  app.get(
    '/events',
    { schema: { summary: 'SSE of every task event', querystring: Resume } },
    (request, reply) => stream(request, reply),
  );
  app.get(
    '/tasks/:id/events',
    { schema: { summary: "SSE of one task's events", params: TaskIdParams, querystring: Resume } },
    (request, reply) => stream(request, reply, request.params.id),
  );
};

export default eventRoutes;
