import type { TaskEvent } from '@taskdock/shared/contract';
import { readSse } from '@taskdock/shared/node/sse-reader';

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
