import type { TaskEvent } from '@taskdock/backend/contract';

/** One Server-Sent Event as the API frames it (backend/src/routes/sse.ts). */
export interface SseMessage {
  readonly id: string;
  readonly event: string;
  readonly data: string;
}

/** Parses an SSE body into messages (comments and `retry:` ignored), as the bytes arrive. */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  let message = { id: '', event: 'message', data: [] as string[] };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.search(/\r?\n/);
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(buffer[newline] === '\r' ? newline + 2 : newline + 1);
      newline = buffer.search(/\r?\n/);
      if (line === '') {
        if (message.data.length > 0) {
          yield { id: message.id, event: message.event, data: message.data.join('\n') };
        }
        message = { id: message.id, event: 'message', data: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') message.id = value;
      else if (field === 'event') message.event = value;
      else if (field === 'data') message.data.push(value);
    }
  }
}

export interface TaskFeedOptions {
  readonly apiUrl: string;
  readonly token: string;
  readonly onEvent: (event: TaskEvent) => void;
  /** Each time a connection is open (first and after a reconnect): counts may have moved. */
  readonly onOpen?: () => void;
  readonly reconnectDelayMs?: number;
}

/**
 * Follows `GET /api/events` of the local backend with the API token until stopped. A dropped
 * stream (a backend restart keeps its port) is resumed with Last-Event-ID: no event lost or
 * repeated.
 */
export function followTaskEvents(options: TaskFeedOptions): { stop(): void } {
  const abort = new AbortController();
  const delayMs = options.reconnectDelayMs ?? 1000;
  void (async () => {
    let lastEventId: string | undefined;
    while (!abort.signal.aborted) {
      try {
        const response = await fetch(`${options.apiUrl}/api/events`, {
          headers: {
            authorization: `Bearer ${options.token}`,
            accept: 'text/event-stream',
            ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
          },
          signal: abort.signal,
        });
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        options.onOpen?.();
        for await (const message of readSse(response.body)) {
          if (message.id !== '') lastEventId = message.id;
          options.onEvent(JSON.parse(message.data) as TaskEvent);
        }
      } catch {
        // Dropped, refused or not up yet: try again shortly (until stopped).
      }
      if (abort.signal.aborted) break;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  })();
  return { stop: () => abort.abort() };
}
