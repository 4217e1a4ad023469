import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { HttpLimits } from '../http-limits.ts';

const HEARTBEAT_MS = 15_000;
/** An ended stream whose last bytes the client has not taken within this is cut. */
const END_GRACE_MS = 1000;

export type SseLimits = Pick<HttpLimits, 'sseMaxUnsentBytes' | 'sseStallBytes' | 'sseStallMs'>;

export interface EventStream {
  /** False once the client left or was dropped; writes are then ignored. */
  readonly open: boolean;
  write(chunk: string): void;
  /** Ends the stream (the client reconnects with Last-Event-ID). */
  close(): void;
  onClose(listener: () => void): void;
}

export const sseFrame = (id: string | number, event: string, data: string) =>
  `id: ${id}\nevent: ${event}\ndata: ${data}\n\n`;

/** `end()` waits for the client to read the rest; one that never does is cut after a grace. */
function endStream(res: ServerResponse): void {
  res.end();
  const cut = setTimeout(() => res.destroy(), END_GRACE_MS);
  res.once('close', () => clearTimeout(cut));
}

/**
 * Server-Sent Events plumbing for a route plugin: headers, heartbeat comments, dropping slow
 * clients, and ending every open stream when the app closes (they never end by themselves).
 *
 * A client that does not read costs memory for what we queue for it: it is disconnected when
 * more than `sseMaxUnsentBytes` wait, or when more than `sseStallBytes` have waited for
 * `sseStallMs` (a paused reader). It resumes with Last-Event-ID, so nothing is lost.
 */
export function eventStreams(app: FastifyInstance, limits: SseLimits = app.httpLimits) {
  const responses = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of responses) endStream(res);
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
    // HEAD gets the head only (Node would hold it back until an end that never comes).
    if (reply.request.method === 'HEAD') res.end();
    else res.write(`retry: 2000\n${preamble}\n`);
    responses.add(res);
    const isOpen = () => !res.destroyed && !res.writableEnded;

    let stall: NodeJS.Timeout | undefined;
    const clearStall = () => {
      clearTimeout(stall);
      stall = undefined;
    };
    // Looked at after every write (a heartbeat at least every HEARTBEAT_MS) and on drain.
    const watchBacklog = () => {
      if (res.writableLength > limits.sseMaxUnsentBytes) return res.destroy();
      if (res.writableLength <= limits.sseStallBytes) return clearStall();
      stall ??= setTimeout(() => {
        stall = undefined;
        if (res.writableLength > limits.sseStallBytes) res.destroy();
      }, limits.sseStallMs);
    };
    res.on('drain', clearStall);

    const stream: EventStream = {
      get open() {
        return isOpen();
      },
      write(chunk) {
        if (!isOpen() || chunk === '') return;
        res.write(chunk);
        watchBacklog();
      },
      close() {
        if (isOpen()) endStream(res);
      },
      onClose(listener) {
        res.on('close', listener);
      },
    };
    const heartbeat = setInterval(() => stream.write(': ping\n\n'), HEARTBEAT_MS);
    res.on('close', () => {
      clearInterval(heartbeat);
      clearStall();
      responses.delete(res);
    });
    return stream;
  };
}
