import type { TaskEvent } from '@taskdock/shared/contract';
import { readSse } from '@taskdock/shared/node/sse-reader';
import { type ApiClient, ApiError } from './api-client.ts';

/** How long a dropped stream keeps trying to come back before the command gives up. */
const RECONNECT_FOR_MS = 30_000;
const RECONNECT_DELAY_MS = 500;

export interface TaskEventStream extends AsyncIterable<TaskEvent> {
  /** Resolves once the first connection is open: every event after this point arrives. */
  readonly opened: Promise<void>;
  close(): void;
}

/**
 * Task events from `pathname` (`/events` or `/tasks/:id/events`), resumed with Last-Event-ID
 * after a drop so none is lost or repeated; gives up with a CliError when the API stays away.
 */
export function openTaskEvents(
  api: ApiClient,
  pathname: string,
  signal: AbortSignal,
): TaskEventStream {
  const stop = new AbortController();
  const streamSignal = AbortSignal.any([signal, stop.signal]);
  const queue: TaskEvent[] = [];
  let failure: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  let markOpened: () => void = () => {};
  let failOpen: (err: unknown) => void = () => {};
  const opened = new Promise<void>((resolve, reject) => {
    markOpened = resolve;
    failOpen = reject;
  });
  opened.catch(() => {});

  void (async () => {
    let lastEventId: string | undefined;
    let downSince: number | undefined;
    while (!streamSignal.aborted) {
      try {
        const response = await api.openStream(pathname, lastEventId);
        downSince = undefined;
        markOpened();
        for await (const message of readSse(abortable(response.body, streamSignal))) {
          if (message.id !== '') lastEventId = message.id;
          queue.push(JSON.parse(message.data) as TaskEvent);
          notify();
        }
      } catch (err) {
        if (streamSignal.aborted) break;
        // A refusal (404, 400, 401) stays one; a dropped connection or a 5xx may pass.
        downSince ??= Date.now();
        if (
          (err instanceof ApiError && err.status < 500) ||
          Date.now() - downSince > RECONNECT_FOR_MS
        ) {
          failure = err;
          failOpen(err);
          break;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_DELAY_MS));
    }
    ended = true;
    notify();
  })();

  return {
    opened,
    close: () => stop.abort(),
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const event = queue.shift();
        if (event !== undefined) {
          yield event;
          continue;
        }
        if (failure !== undefined) throw failure;
        if (ended) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
}

/** The body's chunks until `signal` aborts (a fetch body alone does not stop on abort while idle). */
async function* abortable(
  body: ReadableStream<Uint8Array> | null,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  if (body === null) return;
  const reader = body.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  signal.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}
