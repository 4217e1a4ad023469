// Server-sent events over fetch (not EventSource): we see the HTTP status, so a 404 (a backend
// without the endpoint) or a 401 (signed out) stops retrying and says so, and we send
// Last-Event-ID ourselves on every reconnect, so nothing is missed.

export type StreamState =
  | 'connecting'
  | 'open'
  | 'reconnecting'
  /** The endpoint does not exist on this backend (404): no retries. */
  | 'unavailable'
  | 'unauthorized'
  | 'closed';

export interface SseMessage {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

export interface SseOptions {
  onMessage(message: SseMessage): void;
  onState?(state: StreamState, detail?: string): void;
  /** When the next connection attempt is due (epoch ms), each time one is scheduled. */
  onRetryAt?(at: number): void;
  /** Resume after this id (e.g. the last event a page already has). */
  lastEventId?: string;
}

export interface SseConnection {
  close(): void;
  /** Tries to connect now instead of at the scheduled retry (no-op while connected). */
  retryNow(): void;
  readonly lastEventId: () => string | undefined;
}

const MAX_DELAY_MS = 15_000;
/**
 * A connection that brings nothing for this long is taken as dead and reopened: Taskdock's
 * backend sends a heartbeat every 15 s, and a frozen or unplugged server closes nothing.
 */
const SILENCE_MS = 40_000;

export function openStream(url: string, options: SseOptions): SseConnection {
  let lastEventId = options.lastEventId;
  let retryMs = 1000;
  let failures = 0;
  let closed = false;
  let controller: AbortController | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let silence: ReturnType<typeof setTimeout> | undefined;
  /** (Re)arms the silence watchdog of the connection being made or read now. */
  const heard = () => {
    clearTimeout(silence);
    const current = controller;
    silence = setTimeout(() => current?.abort(), SILENCE_MS);
  };
  const setState = (state: StreamState, detail?: string) => options.onState?.(state, detail);

  const scheduleReconnect = () => {
    if (closed) return;
    failures += 1;
    const delay = Math.min(MAX_DELAY_MS, retryMs * 2 ** Math.min(failures - 1, 4));
    setState('reconnecting');
    options.onRetryAt?.(Date.now() + delay);
    timer = setTimeout(connect, delay);
  };

  async function connect() {
    timer = undefined;
    if (closed) return;
    controller = new AbortController();
    heard();
    setState(failures === 0 ? 'connecting' : 'reconnecting');
    let response: Response;
    try {
      response = await fetch(url, {
        credentials: 'same-origin',
        cache: 'no-store',
        headers: {
          accept: 'text/event-stream',
          ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
        },
        signal: controller.signal,
      });
    } catch {
      scheduleReconnect();
      return;
    }
    if (response.status === 404 || response.status === 405) {
      setState('unavailable', `${url} is not available on this backend`);
      return;
    }
    if (response.status === 401) {
      setState('unauthorized');
      return;
    }
    if (!response.ok || !response.body) {
      scheduleReconnect();
      return;
    }
    failures = 0;
    setState('open');
    try {
      await read(response.body);
    } catch {
      // Dropped connection or abort: fall through to reconnect unless closed.
    }
    clearTimeout(silence);
    scheduleReconnect();
  }

  async function read(body: ReadableStream<Uint8Array>) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let data: string[] = [];
    let event = 'message';
    let id: string | undefined;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      heard();
      buffer += decoder.decode(value, { stream: true });
      let newline = buffer.search(/\r\n|\r|\n/);
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
        newline = buffer.search(/\r\n|\r|\n/);
        if (line === '') {
          if (data.length > 0) {
            if (id !== undefined) lastEventId = id;
            options.onMessage({ id, event, data: data.join('\n') });
          }
          data = [];
          event = 'message';
          id = undefined;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') data.push(value);
        else if (field === 'event') event = value;
        else if (field === 'id' && !value.includes('\0')) id = value;
        else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
      }
    }
  }

  void connect();
  return {
    retryNow() {
      if (closed || timer === undefined) return;
      clearTimeout(timer);
      timer = undefined;
      void connect();
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      clearTimeout(silence);
      controller?.abort();
      setState('closed');
    },
    lastEventId: () => lastEventId,
  };
}
