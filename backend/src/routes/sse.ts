import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';

const HEARTBEAT_MS = 15_000;
/** A client that lets this much pile up unread is dropped (it reconnects with Last-Event-ID). */
const MAX_UNSENT_BYTES = 1024 * 1024;

export interface EventStream {
  /** False once the client left or was dropped; writes are then ignored. */
  readonly open: boolean;
  write(chunk: string): void;
  onClose(listener: () => void): void;
}

export const sseFrame = (id: string | number, event: string, data: string) =>
  `id: ${id}\nevent: ${event}\ndata: ${data}\n\n`;

/**
 * Server-Sent Events plumbing for a route plugin: headers, heartbeat comments, dropping slow
 * clients, and ending every open stream when the app closes (they never end by themselves).
 */
export function eventStreams(app: FastifyInstance) {
  const responses = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of responses) res.end();
  });

  return function openEventStream(reply: FastifyReply, preamble = ''): EventStream {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 2000\n${preamble}\n`);
    responses.add(res);
    const isOpen = () => !res.destroyed && !res.writableEnded;
    const stream: EventStream = {
      get open() {
        return isOpen();
      },
      write(chunk) {
        if (!isOpen() || chunk === '') return;
        res.write(chunk);
        if (res.writableLength > MAX_UNSENT_BYTES) res.end();
      },
      onClose(listener) {
        res.on('close', listener);
      },
    };
    const heartbeat = setInterval(() => stream.write(': ping\n\n'), HEARTBEAT_MS);
    res.on('close', () => {
      clearInterval(heartbeat);
      responses.delete(res);
    });
    return stream;
  };
}
