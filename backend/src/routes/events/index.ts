import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { compareEventIds, isEventId, TaskIdParams } from '@taskdock/shared/contract';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidInputError } from '../../engine/errors.ts';
import type { StreamEvent } from '../../engine/task-engine.ts';
import { eventStreams, sseFrame } from '../sse.ts';

const MAX_PENDING_DURING_REPLAY = 10_000;

const Resume = Type.Object(
  {
    lastEventId: Type.Optional(
      Type.String({ maxLength: 64, description: 'same as the Last-Event-ID header' }),
    ),
  },
  { additionalProperties: false },
);

/** Task events as Server-Sent Events, resumable with Last-Event-ID. */
const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { engine } = app.deps;
  const { events } = engine;
  const openEventStream = eventStreams(app);

  async function stream(request: FastifyRequest, reply: FastifyReply, taskId?: string) {
    const header = request.headers['last-event-id'];
    const resumeFrom =
      (typeof header === 'string' && header) ||
      (request.query as { lastEventId?: string }).lastEventId ||
      undefined;
    if (resumeFrom !== undefined && !isEventId(resumeFrom)) {
      throw new InvalidInputError(
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
      if (lastSent !== undefined && compareEventIds(event.id, lastSent) <= 0) return;
      stream.write(sseFrame(event.id, event.type, event.data));
      lastSent = event.id;
    };
    // Follow first and hold live events back until the replay is out: no gap, no duplicate.
    const unsubscribe = events.subscribe((event) => {
      if (!replaying) return send(event);
      pending.push(event);
      if (pending.length > MAX_PENDING_DURING_REPLAY) stream.close();
    });
    stream.onClose(unsubscribe);
    if (resumeFrom === undefined) return;

    try {
      const newest = await events.newestId();
      if (newest === undefined || compareEventIds(resumeFrom, newest) > 0) {
        // An id past the end (the stream was reset, or the id was made up): live from now, not
        // a 400, because EventSource gives up for good on an error answer and the page would
        // stop updating; and not silence, which holding every newer event back would be.
        lastSent = undefined;
        stream.write(': Last-Event-ID is past the end of the stream; live events from now\n\n');
      } else {
        for await (const event of events.replay(resumeFrom)) {
          if (!stream.open) break;
          send(event);
        }
      }
    } catch (err) {
      // Redis failed mid-replay: end the stream, the client resumes from what it got.
      request.log.warn({ err: (err as Error).message }, 'event replay failed');
      return stream.close();
    }
    replaying = false;
    for (const event of pending.splice(0)) send(event);
  }

  app.get(
    '/events',
    { schema: { summary: 'SSE of every task event', querystring: Resume } },
    (request, reply) => stream(request, reply),
  );
  app.get(
    '/tasks/:id/events',
    { schema: { summary: "SSE of one task's events", params: TaskIdParams, querystring: Resume } },
    async (request, reply) => {
      // A workflow no one knows can have no task: 404, as for the task itself.
      await engine.checkTaskId(request.params.id);
      return stream(request, reply, request.params.id);
    },
  );
};

export default eventRoutes;
