import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TaskIdParams } from '../../contract/index.ts';
import { TaskdockError } from '../../tasks/errors.ts';
import { isStreamId, type StreamEvent } from '../../tasks/event-hub.ts';
import { eventStreams, sseFrame } from '../sse.ts';

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

/** Task events as Server-Sent Events, resumable with Last-Event-ID. */
const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { events } = app.deps;
  const openEventStream = eventStreams(app);

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
    const stream = openEventStream(reply);
    let lastSent = resumeFrom;
    let replaying = resumeFrom !== undefined;
    const pending: StreamEvent[] = [];
    const send = (event: StreamEvent) => {
      if (taskId !== undefined && event.taskId !== taskId) return;
      if (lastSent !== undefined && compareIds(event.id, lastSent) <= 0) return;
      stream.write(sseFrame(event.id, event.type, event.data));
      lastSent = event.id;
    };
    // Follow first and hold live events back until the replay is out: no gap, no duplicate.
    const unsubscribe = events.subscribe((event) => {
      if (!replaying) return send(event);
      pending.push(event);
      if (pending.length > MAX_PENDING_DURING_REPLAY) reply.raw.end();
    });
    stream.onClose(unsubscribe);

    if (resumeFrom !== undefined) {
      for await (const event of events.replay(resumeFrom)) {
        if (!stream.open) break;
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
